import Glibc

/// Failures the layers above turn into S3 errors.
public enum StorageError: Error, Equatable {
    case noSuchBucket
    case bucketExists(ownedBy: String)
    case bucketNotEmpty
    case noSuchKey
    case invalidKey(String)
    case keyTooLong
    case noSuchUpload
    case metadataTooLarge
    /// A conditional write found the key taken.
    case alreadyExists
    /// A failed system call: errno and what was being done (never a user secret).
    case system(Int32, String)

    public var isNotFound: Bool {
        if case .system(let code, _) = self { return code == ENOENT || code == ENOTDIR }
        return false
    }
}

extension StorageError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .system(let code, let what): "\(what): \(String(cString: strerror(code)))"
        case .noSuchBucket: "no such bucket"
        case .bucketExists: "bucket exists"
        case .bucketNotEmpty: "bucket not empty"
        case .noSuchKey: "no such key"
        case .invalidKey(let why): "invalid key: \(why)"
        case .keyTooLong: "key too long"
        case .noSuchUpload: "no such upload"
        case .metadataTooLarge: "metadata too large"
        case .alreadyExists: "key exists"
        }
    }
}
