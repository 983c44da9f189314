import CSystem
import Crypto
import Foundation
import Glibc

/// A multipart upload in progress: what CreateMultipartUpload fixed for the final object.
public struct UploadInfo: Codable, Sendable {
    public var id: String = ""
    public var bucket: String
    public var key: String
    public var owner: String
    public var initiated: Int64 = 0
    public var system: [String: String] = [:]
    public var user: [String: String] = [:]
    public var tags: [String: String] = [:]
    public var checksumAlgorithm: String?
    /// For SSE-C uploads: the MD5 every part's key must match.
    public var sseKeyMD5: String?

    public init(bucket: String, key: String, owner: String) {
        self.bucket = bucket
        self.key = key
        self.owner = owner
    }
}

/// One uploaded part, as stored in its file's attribute.
public struct StoredPart: Codable, Sendable {
    public var number: Int
    public var size: UInt64
    public var etag: String
    public var modified: Int64
    public var iv: String?
    public var checksum: String?

    public init(number: Int, size: UInt64, etag: String, modified: Int64, iv: String? = nil, checksum: String? = nil) {
        self.number = number
        self.size = size
        self.etag = etag
        self.modified = modified
        self.iv = iv
        self.checksum = checksum
    }
}

/// Uploads live in `system/uploads/<bucket>/<id>/`, one file per part (`part-00001`), each
/// written like an object (anonymous file, then an atomic rename, so re-uploading a part
/// replaces it whole). Complete appends the chosen parts into one new file in the kernel
/// (copy_file_range) and publishes it like any PUT, under an exclusive flock on the upload
/// directory so that a concurrent Complete or Abort waits and then finds the upload gone.
extension Store {
    static let uploadAttribute = "user.liteio.upload"
    static let partAttribute = "user.liteio.part"

    var uploadsPath: String { root + "/system/uploads" }

    public func createUpload(_ info: UploadInfo) throws -> String {
        _ = try bucketDirectory(info.bucket)
        var info = info
        info.id = Random.hex(16)
        info.initiated = Store.nowMillis()
        let bucketUploads = uploadsPath + "/" + info.bucket
        for path in [uploadsPath, bucketUploads] where mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw StorageError.system(errno, "mkdir uploads")
        }
        guard try publishDirectory(info.id, in: open(bucketUploads), attribute: Store.uploadAttribute,
                                   value: Array(JSONEncoder().encode(info))) else {
            throw StorageError.system(EEXIST, "create upload")  // 128 random bits collided
        }
        return info.id
    }

    public func upload(bucket: String, id: String) throws -> UploadInfo {
        try readUploadInfo(try uploadDirectory(bucket: bucket, id: id))
    }

    private func readUploadInfo(_ dir: FileDescriptor) throws -> UploadInfo {
        guard let raw = dir.getXattr(Store.uploadAttribute),
              let info = try? JSONDecoder().decode(UploadInfo.self, from: Data(raw)) else { throw StorageError.noSuchUpload }
        return info
    }

    func uploadDirectory(bucket: String, id: String) throws -> FileDescriptor {
        // Upload ids are ours: 32 hex digits. Anything else cannot name a directory.
        guard BucketName.isValid(bucket), id.utf8.count == 32, id.utf8.allSatisfy({ isxdigit(Int32($0)) != 0 }) else {
            throw StorageError.noSuchUpload
        }
        do {
            return try FileDescriptor.open(uploadsPath + "/" + bucket + "/" + id, flags: O_RDONLY | O_DIRECTORY)
        } catch let error as StorageError where error.isNotFound {
            throw StorageError.noSuchUpload
        }
    }

    public func beginPart(bucket: String, id: String, number: Int) throws -> PartWriter {
        let dir = try uploadDirectory(bucket: bucket, id: id)
        let fd = liteio_open_tmpfile(dir.fd)
        guard fd >= 0 else { throw StorageError.system(errno, "create part") }
        return PartWriter(store: self, directory: dir, file: FileDescriptor(fd), number: number)
    }

    /// The upload's parts, by part number.
    public func parts(bucket: String, id: String) throws -> [StoredPart] {
        let dir = try uploadDirectory(bucket: bucket, id: id)
        return try partFiles(dir).map(\.part)
    }

    private func partFiles(_ dir: FileDescriptor) throws -> [(part: StoredPart, file: FileDescriptor)] {
        var out: [(StoredPart, FileDescriptor)] = []
        for name in try dir.entryNames() where name.hasPrefix("part-") {
            guard let file = try? FileDescriptor.open(beneath: dir, name, flags: O_RDONLY),
                  let raw = file.getXattr(Store.partAttribute),
                  let part = try? JSONDecoder().decode(StoredPart.self, from: Data(raw)) else { continue }
            out.append((part, file))
        }
        return out.sorted { $0.0.number < $1.0.number }
    }

    /// Publishes the parts `choose` picks (and the metadata it returns, without size and
    /// parts table, which are filled in here) as the upload's object, then removes the upload.
    public func completeUpload(bucket: String, id: String,
                               choose: ([StoredPart]) throws -> (parts: [StoredPart], metadata: ObjectMetadata)) throws -> ObjectMetadata {
        let dir = try uploadDirectory(bucket: bucket, id: id)
        guard flock(dir.fd, LOCK_EX) == 0 else { throw StorageError.system(errno, "lock upload") }
        defer { flock(dir.fd, LOCK_UN) }
        // A Complete or Abort that held the lock before us removed the upload.
        if try dir.status().st_nlink == 0 { throw StorageError.noSuchUpload }
        let info = try readUploadInfo(dir)
        let available = try partFiles(dir)
        var (chosen, metadata) = try choose(available.map(\.part))
        let files = Dictionary(available.map { ($0.part.number, $0.file) }, uniquingKeysWith: { a, _ in a })

        let writer = try beginPut(bucket: bucket, key: info.key)
        for part in chosen {
            try writer.append(from: files[part.number]!, length: part.size)
        }
        metadata.size = chosen.reduce(0) { $0 + $1.size }
        metadata.parts = chosen.map { PartInfo(number: $0.number, size: $0.size, etag: $0.etag, iv: $0.iv) }
        try writer.commit(metadata)
        try removeUpload(dir, bucket: bucket, id: id)
        return metadata
    }

    public func abortUpload(bucket: String, id: String) throws {
        let dir = try uploadDirectory(bucket: bucket, id: id)
        guard flock(dir.fd, LOCK_EX) == 0 else { throw StorageError.system(errno, "lock upload") }
        defer { flock(dir.fd, LOCK_UN) }
        if try dir.status().st_nlink == 0 { throw StorageError.noSuchUpload }
        try removeUpload(dir, bucket: bucket, id: id)
    }

    /// Renames the upload out of sight first (atomic), then deletes its files.
    private func removeUpload(_ dir: FileDescriptor, bucket: String, id: String) throws {
        let parent = try open(uploadsPath + "/" + bucket)
        let tmp = try open(tmpPath)
        let doomed = Store.temporaryName()
        guard renameat(parent.fd, id, tmp.fd, doomed) == 0 else { throw StorageError.system(errno, "remove upload") }
        for name in try dir.entryNames() { unlinkat(dir.fd, name, 0) }
        unlinkat(tmp.fd, doomed, AT_REMOVEDIR)
    }

    /// Uploads of a bucket, in key order then upload-id order (ListMultipartUploads: S3 compares
    /// upload-id-marker lexicographically).
    public func uploads(bucket: String) throws -> [UploadInfo] {
        _ = try bucketDirectory(bucket)
        guard let dir = try? open(uploadsPath + "/" + bucket) else { return [] }
        var out: [UploadInfo] = []
        for name in try dir.entryNames() {
            if let sub = try? FileDescriptor.open(beneath: dir, name, flags: O_RDONLY | O_DIRECTORY),
               let info = try? readUploadInfo(sub) { out.append(info) }
        }
        return out.sorted {
            $0.key == $1.key ? $0.id < $1.id : Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8))
        }
    }

    /// Aborts uploads initiated before `age` seconds ago; returns how many.
    public func abortUploads(olderThan age: TimeInterval) -> Int {
        let cutoff = Store.nowMillis() - Int64(age * 1000)
        let buckets = (try? FileManager.default.contentsOfDirectory(atPath: uploadsPath)) ?? []
        var count = 0
        for bucket in buckets {
            for info in (try? uploads(bucket: bucket)) ?? [] where info.initiated < cutoff {
                if (try? abortUpload(bucket: bucket, id: info.id)) != nil { count += 1 }
            }
        }
        return count
    }
}

/// Receives one part; `commit` replaces any earlier upload of the same part number atomically.
public final class PartWriter: DataWriter {
    private let store: Store
    private let directory: FileDescriptor
    private let file: FileDescriptor
    public let number: Int

    init(store: Store, directory: FileDescriptor, file: FileDescriptor, number: Int) {
        self.store = store
        self.directory = directory
        self.file = file
        self.number = number
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { try file.writeAll(bytes) }

    public func commit(_ part: StoredPart) throws {
        try file.setXattr(Store.partAttribute, Array(try JSONEncoder().encode(part)))
        if store.durable { try file.sync() }
        if try directory.status().st_nlink == 0 { throw StorageError.noSuchUpload }  // aborted meanwhile
        let tmpName = Store.temporaryName()
        guard liteio_link_fd(file.fd, directory.fd, tmpName) == 0 else { throw StorageError.system(errno, "link part") }
        let name = "part-" + String(repeating: "0", count: max(0, 5 - String(number).count)) + String(number)
        guard renameat(directory.fd, tmpName, directory.fd, name) == 0 else {
            unlinkat(directory.fd, tmpName, 0)
            throw StorageError.system(errno, "publish part")
        }
        if store.durable { try directory.sync() }
    }
}
