import Foundation
import Glibc
import CSystem

/// The POSIX object store: one directory tree under `root`.
///
///   root/buckets/<bucket>/…   objects, named by KeyMapping
///   root/system/tmp/          files being published (linked here only for an instant)
///
/// Workers keep no state: every operation is a handful of atomic filesystem calls, so any
/// number of processes (or hosts sharing a POSIX filesystem) can serve one tree.
public final class Store: Sendable {
    public let root: String
    let bucketsPath: String
    let tmpPath: String
    /// fsync files and directories before acknowledging. Only tests turn it off.
    let durable: Bool

    public init(root: String, durable: Bool = true) throws {
        self.root = root
        self.durable = durable
        bucketsPath = root + "/buckets"
        tmpPath = root + "/system/tmp"
        for path in [root, bucketsPath, root + "/system", tmpPath] {
            if mkdir(path, 0o750) != 0 && errno != EEXIST { throw StorageError.system(errno, "mkdir \(path)") }
        }
        try checkXattrSupport()
    }

    func open(_ path: String) throws -> FileDescriptor {
        try FileDescriptor.open(path, flags: O_RDONLY | O_DIRECTORY)
    }

    /// Fails early, with a clear message, on a filesystem without user xattrs.
    private func checkXattrSupport() throws {
        let tmp = try open(tmpPath)
        let fd = liteio_open_tmpfile(tmp.fd)
        guard fd >= 0 else { throw StorageError.system(errno, "O_TMPFILE in \(tmpPath)") }
        let file = FileDescriptor(fd)
        try file.setXattr("user.liteio.probe", [1])
    }

    /// Removes temp files left by a crash. Only old ones: another process may be between
    /// linking and renaming its own right now.
    public func cleanTemporaryFiles(olderThan age: TimeInterval = 15 * 60) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmpPath) else { return 0 }
        let cutoff = Date().addingTimeInterval(-age).timeIntervalSince1970
        var removed = 0
        for name in names {
            var st = stat()
            let path = tmpPath + "/" + name
            guard lstat(path, &st) == 0, Double(st.st_mtim.tv_sec) < cutoff else { continue }
            let isDir = st.st_mode & S_IFMT == S_IFDIR
            if isDir { try? FileManager.default.removeItem(atPath: path) } else { unlink(path) }
            removed += 1
        }
        return removed
    }

    /// True while the data directory can be reached (health checks).
    public var isHealthy: Bool {
        var st = stat()
        return stat(tmpPath, &st) == 0 && access(tmpPath, W_OK) == 0
    }

    /// Makes directory `name` in `parent` appear with its attribute already set: prepared under
    /// tmp, then renamed into place without replacing. Returns false when `name` exists already.
    func publishDirectory(_ name: String, in parent: FileDescriptor, attribute: String, value: [UInt8]) throws -> Bool {
        let tmp = try open(tmpPath)
        let staging = Store.temporaryName()
        guard mkdirat(tmp.fd, staging, 0o750) == 0 else { throw StorageError.system(errno, "mkdir \(name)") }
        defer { unlinkat(tmp.fd, staging, AT_REMOVEDIR) }  // gone already once renamed
        let dir = try FileDescriptor.open(beneath: tmp, staging, flags: O_RDONLY | O_DIRECTORY)
        try dir.setXattr(attribute, value)
        if liteio_rename_noreplace(tmp.fd, staging, parent.fd, name) != 0 {
            guard errno == EEXIST || errno == ENOTEMPTY else { throw StorageError.system(errno, "publish \(name)") }
            return false
        }
        if durable { try parent.sync() }
        return true
    }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func temporaryName() -> String { "tmp-" + Random.hex(12) }
}

import Crypto
