import CSystem
import Glibc

/// An owned file descriptor, closed when released.
public final class FileDescriptor {
    public let fd: Int32

    public init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// Opens `path` below `directory` without following symlinks or leaving it.
    public static func open(beneath directory: FileDescriptor, _ path: String, flags: Int32,
                            mode: mode_t = 0o644) throws -> FileDescriptor {
        let fd = liteio_open_beneath(directory.fd, path, flags, mode)
        guard fd >= 0 else { throw StorageError.system(errno, "open \(path)") }
        return FileDescriptor(fd)
    }

    public static func open(_ path: String, flags: Int32) throws -> FileDescriptor {
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.system(errno, "open \(path)") }
        return FileDescriptor(fd)
    }

    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.system(errno, "write")
            }
            done += n
        }
    }

    /// Reads at an offset; returns fewer bytes only at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.system(errno, "read")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func sync() throws {
        guard fsync(fd) == 0 else { throw StorageError.system(errno, "fsync") }
    }

    public func status() throws -> stat {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StorageError.system(errno, "fstat") }
        return st
    }

    public func getXattr(_ name: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { liteio_fgetxattr(fd, name, $0.baseAddress, $0.count) }
            if n >= 0 { return Array(buffer[0..<n]) }
            guard errno == ERANGE, buffer.count < 1 << 16 else { return nil }
            buffer = [UInt8](repeating: 0, count: buffer.count * 16)
        }
    }

    public func setXattr(_ name: String, _ value: [UInt8]) throws {
        let rc = value.withUnsafeBytes { liteio_fsetxattr(fd, name, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw StorageError.system(errno, "setxattr \(name)") }
    }

    /// The names in a directory (without `.` and `..`), in no particular order; with `prefix`,
    /// only those starting with it, compared on the raw bytes before any String is made.
    public func entryNames(prefix: [UInt8]? = nil) throws -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else { throw StorageError.system(errno, "opendir") }
        defer { closedir(stream) }
        rewinddir(stream)  // the duplicate shares its offset with earlier readers
        var names: [String] = []
        while let entry = readdir(stream) {
            let name: String? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[..<(raw.firstIndex(of: 0) ?? raw.count)])
                if let prefix, !bytes.starts(with: prefix) { return nil }
                if bytes.count <= 2 && bytes.allSatisfy({ $0 == UInt8(ascii: ".") }) { return nil }
                return String(decoding: bytes, as: UTF8.self)
            }
            if let name { names.append(name) }
        }
        return names
    }
}
