import Foundation
import Glibc
import CSystem

public struct BucketInfo: Equatable, Sendable {
    public var name: String
    public var owner: String
    /// Milliseconds since the epoch.
    public var created: Int64

    /// The attribute's text: `v1`, owner, creation time, one per line. Read on every request,
    /// so plain lines rather than JSON (whose decoder costs more than the rest of a small GET).
    var attribute: [UInt8] { Array("v1\n\(owner)\n\(created)\n".utf8) }

    init(name: String, owner: String, created: Int64) {
        self.name = name
        self.owner = owner
        self.created = created
    }

    init?(name: String, attribute: [UInt8]) {
        let lines = String(decoding: attribute, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, lines[0] == "v1", let created = Int64(lines[2]) else { return nil }
        self.init(name: name, owner: String(lines[1]), created: created)
    }
}

extension Store {
    static let bucketAttribute = "user.liteio.bucket"

    /// Creates a bucket atomically: prepared with its attributes under tmp, then renamed into
    /// place without replacing, so no one ever sees a bucket without an owner.
    public func createBucket(_ name: String, owner: String) throws {
        let info = BucketInfo(name: name, owner: owner, created: Store.nowMillis())
        guard try publishDirectory(name, in: open(bucketsPath), attribute: Store.bucketAttribute, value: info.attribute) else {
            throw StorageError.bucketExists(ownedBy: (try? bucket(name).owner) ?? "")
        }
    }

    public func bucket(_ name: String) throws -> BucketInfo {
        let dir = try bucketDirectory(name)
        guard let raw = dir.getXattr(Store.bucketAttribute), let info = BucketInfo(name: name, attribute: raw)
        else { throw StorageError.system(EBADMSG, "bucket metadata") }
        return info
    }

    public func listBuckets() throws -> [BucketInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: bucketsPath)) ?? []
        return names.sorted().compactMap { try? bucket($0) }
    }

    /// Removes an empty bucket. rmdir itself is the emptiness check, so a concurrent PUT
    /// either lands first (BucketNotEmpty) or finds the bucket gone (NoSuchBucket).
    public func deleteBucket(_ name: String) throws {
        let buckets = try open(bucketsPath)
        _ = try bucketDirectory(name)
        if unlinkat(buckets.fd, name, AT_REMOVEDIR) != 0 {
            switch errno {
            case ENOTEMPTY, EEXIST: throw StorageError.bucketNotEmpty
            case ENOENT: throw StorageError.noSuchBucket
            default: throw StorageError.system(errno, "delete bucket")
            }
        }
        if durable { try buckets.sync() }
    }

    func bucketDirectory(_ name: String) throws -> FileDescriptor {
        guard BucketName.isValid(name) else { throw StorageError.noSuchBucket }
        do {
            return try FileDescriptor.open(beneath: try open(bucketsPath), name, flags: O_RDONLY | O_DIRECTORY)
        } catch let error as StorageError where error.isNotFound {
            throw StorageError.noSuchBucket
        }
    }
}

/// S3's bucket naming rules (general purpose buckets).
public enum BucketName {
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        let allowed = bytes.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        }
        guard allowed else { return false }
        let isAlnum = { (c: UInt8) in c != UInt8(ascii: ".") && c != UInt8(ascii: "-") }
        guard isAlnum(bytes.first!), isAlnum(bytes.last!) else { return false }
        if name.contains("..") || name.contains(".-") || name.contains("-.") { return false }
        if name.hasPrefix("xn--") || name.hasPrefix("sthree-") || name.hasSuffix("-s3alias")
            || name.hasSuffix("--ol-s3") { return false }
        // Not an IPv4 address.
        let parts = name.split(separator: ".")
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) { return false }
        return true
    }
}
