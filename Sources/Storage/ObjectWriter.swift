import CSystem
import Glibc

/// Receives an object's bytes into an anonymous file and publishes it under its key in one
/// atomic rename. Until `commit` succeeds nothing is visible; if the writer is dropped the
/// kernel discards the anonymous file, so a failed or killed upload leaves nothing behind.
/// Where ingested bytes go: an object or a multipart part.
public protocol DataWriter: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

public final class ObjectWriter: DataWriter {
    private let store: Store
    private let bucket: FileDescriptor
    public let key: String
    private let file: FileDescriptor

    init(store: Store, bucket: FileDescriptor, key: String) throws {
        self.store = store
        self.bucket = bucket
        self.key = key
        let tmp = try store.open(store.tmpPath)
        let fd = liteio_open_tmpfile(tmp.fd)
        guard fd >= 0 else { throw StorageError.system(errno, "create temporary file") }
        file = FileDescriptor(fd)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.writeAll(bytes)
    }

    /// Appends `length` bytes of another file inside the kernel (no copy through user space).
    public func append(from source: FileDescriptor, length: UInt64) throws {
        guard liteio_copy_range(source.fd, 0, file.fd, length) == 0 else { throw StorageError.system(errno, "copy part") }
    }

    /// Makes the object durable and visible; `metadata.size` must be the plaintext size.
    /// With `onlyIfAbsent` (If-None-Match: *) the file is linked, not renamed, into place: link
    /// fails if the key exists, so two such writers cannot both win.
    public func commit(_ metadata: ObjectMetadata, onlyIfAbsent: Bool = false) throws {
        var metadata = metadata
        let (directories, entry) = KeyMapping.entries(for: key)
        if entry.isHashed { metadata.name = entry.part }
        try MetadataCodec.store(metadata, in: file)
        if store.durable { try file.sync() }
        try store.publish(file, bucket: bucket, directories: directories, name: entry.name, onlyIfAbsent: onlyIfAbsent)
    }
}

extension Store {
    public func beginPut(bucket name: String, key: String) throws -> ObjectWriter {
        try KeyMapping.validate(key)
        return try ObjectWriter(store: self, bucket: bucketDirectory(name), key: key)
    }

    /// Links the finished file under a temp name, then renames it over the key's path.
    /// A concurrent DELETE may remove an emptied parent directory at any moment; the rename
    /// then fails with ENOENT and the parents are made again.
    func publish(_ file: FileDescriptor, bucket: FileDescriptor, directories: [KeyMapping.Entry],
                 name: String, onlyIfAbsent: Bool = false) throws {
        let tmp = try open(tmpPath)
        let tmpName = Store.temporaryName()
        guard liteio_link_fd(file.fd, tmp.fd, tmpName) == 0 else { throw StorageError.system(errno, "link temporary file") }
        defer { unlinkat(tmp.fd, tmpName, 0) }  // no-op once renamed
        for _ in 0..<32 {
            let parent: FileDescriptor
            do {
                parent = try makeDirectories(directories, in: bucket)
            } catch let error as StorageError {
                guard error.isNotFound else { throw error }
                if try bucketIsGone(bucket) { throw StorageError.noSuchBucket }
                continue
            }
            let placed = onlyIfAbsent ? linkat(tmp.fd, tmpName, parent.fd, name, 0) : renameat(tmp.fd, tmpName, parent.fd, name)
            if placed == 0 {
                if durable { try parent.sync() }
                return
            }
            let code = errno
            if code == ENOENT {
                if try bucketIsGone(bucket) { throw StorageError.noSuchBucket }
                continue
            }
            if code == EISDIR { throw StorageError.invalidKey("path is taken by a directory") }
            if code == EEXIST && onlyIfAbsent { throw StorageError.alreadyExists }
            throw StorageError.system(code, "publish object")
        }
        throw StorageError.system(EAGAIN, "publish object: parent directory kept disappearing")
    }

    /// Opens (creating as needed) the directory chain below the bucket.
    func makeDirectories(_ directories: [KeyMapping.Entry], in bucket: FileDescriptor) throws -> FileDescriptor {
        var current = bucket
        for entry in directories {
            if let next = try? FileDescriptor.open(beneath: current, entry.name, flags: O_RDONLY | O_DIRECTORY) {
                current = next
                continue
            }
            try makeDirectory(entry, in: current)
            current = try FileDescriptor.open(beneath: current, entry.name, flags: O_RDONLY | O_DIRECTORY)
        }
        return current
    }

    private func makeDirectory(_ entry: KeyMapping.Entry, in parent: FileDescriptor) throws {
        if !entry.isHashed {
            if mkdirat(parent.fd, entry.name, 0o750) != 0 && errno != EEXIST { throw StorageError.system(errno, "mkdir") }
            if durable { try parent.sync() }
            return
        }
        // A shortened name needs its full part in an attribute before anyone can see it;
        // a concurrent PUT that made it first is just as good.
        _ = try publishDirectory(entry.name, in: parent, attribute: KeyMapping.longNameAttribute, value: Array(entry.part.utf8))
    }

    /// True when the bucket directory was removed (its link count drops to zero).
    func bucketIsGone(_ dir: FileDescriptor) throws -> Bool {
        try dir.status().st_nlink == 0
    }
}
