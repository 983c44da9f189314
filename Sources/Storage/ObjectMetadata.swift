import Foundation

/// Everything S3 knows about an object besides its bytes, stored as JSON (MetadataJSON.swift) in the data file's
/// `user.liteio.meta` attribute (schema version `v`). When the JSON outgrows what one inode's
/// attributes can hold on ext4 (≈ 4 KiB in all), it is appended to the data file after the
/// object's bytes and the attribute only points at it, so it is published atomically with
/// the data either way.
public struct ObjectMetadata: Equatable, Sendable {
    public static let schemaVersion = 1

    public var v = ObjectMetadata.schemaVersion
    /// Plaintext size in bytes.
    public var size: UInt64
    /// ETag without quotes.
    public var etag: String
    /// Modification time, milliseconds since the epoch.
    public var modified: Int64
    /// Content-Type, Content-Encoding, Cache-Control, … as the client sent them (lower-case names).
    public var system: [String: String] = [:]
    /// `x-amz-meta-*` values, names lower-case without the prefix.
    public var user: [String: String] = [:]
    /// Verified checksums by algorithm (`crc32`, `sha256`, …), base64 as S3 returns them.
    public var checksums: [String: String] = [:]
    public var tags: [String: String] = [:]
    public var sse: SSECInfo?
    /// Parts of a multipart object, in order (nil for a single PUT).
    public var parts: [PartInfo]?
    /// The full last key part, when the file name had to be shortened.
    public var name: String?

    public init(size: UInt64, etag: String, modified: Int64) {
        self.size = size
        self.etag = etag
        self.modified = modified
    }
}

/// What SSE-C keeps: the key's MD5 to recognise it and the random IV. Never the key.
public struct SSECInfo: Equatable, Sendable {
    public var algorithm = "AES256"
    /// base64 MD5 of the customer key.
    public var keyMD5: String
    /// base64 16-byte IV: the counter block of byte 0 (see AESCTR).
    public var iv: String

    public init(keyMD5: String, iv: String) {
        self.keyMD5 = keyMD5
        self.iv = iv
    }
}

public struct PartInfo: Equatable, Sendable {
    public var number: Int
    public var size: UInt64
    public var etag: String
    /// SSE-C parts each have their own IV.
    public var iv: String?

    public init(number: Int, size: UInt64, etag: String, iv: String? = nil) {
        self.number = number
        self.size = size
        self.etag = etag
        self.iv = iv
    }
}

enum MetadataCodec {
    static let attribute = "user.liteio.meta"
    /// Leaves room in ext4's ≈ 4 KiB per inode for the other attributes.
    static let inlineLimit = 3000
    static let pointerPrefix = Array("{\"overflowLength\"".utf8)

    /// Writes metadata for a data file whose first `meta.size` bytes are the object.
    static func store(_ meta: ObjectMetadata, in file: FileDescriptor) throws {
        let json = meta.json
        if json.count <= inlineLimit {
            try file.setXattr(attribute, json)
        } else {
            try json.withUnsafeBytes { (b) throws in try file.writeAll(b) }
            try file.setXattr(attribute, Array("{\"overflowLength\":\(json.count),\"v\":\(ObjectMetadata.schemaVersion)}".utf8))
        }
    }

    /// Rewrites metadata that is and stays in the attribute.
    static func replaceInline(_ meta: ObjectMetadata, in file: FileDescriptor) throws {
        let json = meta.json
        guard json.count <= inlineLimit, let current = file.getXattr(attribute), !current.starts(with: pointerPrefix)
        else { throw StorageError.metadataTooLarge }
        try file.setXattr(attribute, json)
    }

    static func load(from file: FileDescriptor) throws -> ObjectMetadata {
        guard let raw = file.getXattr(attribute) else { throw StorageError.system(ENODATA, "read metadata") }
        // A pointer is the only shape that starts with this key (keys are sorted), so the common,
        // inline case is decoded once.
        if raw.starts(with: MetadataCodec.pointerPrefix),
           let length = JSONReader.parse(raw)?["overflowLength"]?.int64.map(Int.init) {
            let size = try file.status().st_size
            guard length >= 0, length <= Int(size) else { throw StorageError.system(EBADMSG, "decode metadata") }
            var json = [UInt8](repeating: 0, count: length)
            let offset = UInt64(size) - UInt64(length)
            _ = try json.withUnsafeMutableBytes { (b) throws in try file.read(into: b, at: offset) }
            return try decode(json)
        }
        return try decode(raw)
    }

    private static func decode(_ raw: [UInt8]) throws -> ObjectMetadata {
        guard let meta = ObjectMetadata(json: raw) else { throw StorageError.system(EBADMSG, "decode metadata") }
        return meta
    }
}
