import Glibc

/// An open object: its metadata and a handle on exactly the bytes that were published
/// together with it, however many overwrites happen meanwhile.
public final class ObjectReader {
    public let metadata: ObjectMetadata
    private let file: FileDescriptor

    init(file: FileDescriptor) throws {
        self.file = file
        metadata = try MetadataCodec.load(from: file)
    }

    /// Reads stored bytes at `offset` (never past the object into overflow metadata).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        guard offset < metadata.size else { return 0 }
        let n = Int(min(UInt64(buffer.count), metadata.size - offset))
        return try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]), at: offset)
    }
}

extension Store {
    public func openObject(bucket name: String, key: String) throws -> ObjectReader {
        try ObjectReader(file: objectFile(bucket: name, key: key, flags: O_RDONLY))
    }

    /// The regular file holding `key`; every way of not finding one is NoSuchKey.
    func objectFile(bucket name: String, key: String, flags: Int32) throws -> FileDescriptor {
        try KeyMapping.validate(key)
        let bucket = try bucketDirectory(name)
        let (directories, entry) = KeyMapping.entries(for: key)
        let path = (directories.map(\.name) + [entry.name]).joined(separator: "/")
        do {
            let file = try FileDescriptor.open(beneath: bucket, path, flags: flags)
            guard try file.status().st_mode & S_IFMT == S_IFREG else { throw StorageError.noSuchKey }
            return file
        } catch {
            // ELOOP/EXDEV: a planted symlink or an escape attempt; to S3 it is simply absent.
            if case StorageError.system(let code, _) = error, [ENOENT, ENOTDIR, ELOOP, EXDEV, EISDIR].contains(code) {
                throw StorageError.noSuchKey
            }
            throw error
        }
    }

    /// Deletes a key (absent keys are fine, as in S3) and then the parent directories it
    /// leaves empty. rmdir only succeeds on an empty directory, so it cannot take away a
    /// directory a concurrent PUT has just filled; a PUT that loses the race retries.
    public func deleteObject(bucket name: String, key: String) throws {
        try KeyMapping.validate(key)
        let bucket = try bucketDirectory(name)
        let (directories, entry) = KeyMapping.entries(for: key)
        var chain = [bucket]
        for directory in directories {
            guard let next = try? FileDescriptor.open(beneath: chain.last!, directory.name, flags: O_RDONLY | O_DIRECTORY)
            else { return }
            chain.append(next)
        }
        let parent = chain.last!
        if unlinkat(parent.fd, entry.name, 0) != 0 {
            if errno == ENOENT || errno == EISDIR { return }
            throw StorageError.system(errno, "delete object")
        }
        if durable { try parent.sync() }
        for index in directories.indices.reversed() {
            if unlinkat(chain[index].fd, directories[index].name, AT_REMOVEDIR) != 0 { break }
        }
    }
}

extension Store {
    /// Changes an object's metadata in place (tagging). One fsetxattr replaces the attribute
    /// atomically; metadata that lives after the data (too large for an attribute) cannot be
    /// rewritten without rewriting the object, so that case is refused.
    public func updateMetadata(bucket name: String, key: String, _ change: (inout ObjectMetadata) -> Void) throws {
        let file = try objectFile(bucket: name, key: key, flags: O_RDWR)
        var meta = try MetadataCodec.load(from: file)
        change(&meta)
        try MetadataCodec.replaceInline(meta, in: file)
        if durable { try file.sync() }
    }
}
