import Crypto

/// How an S3 key becomes a path below its bucket's directory. This is the one place the
/// mapping is defined; see docs/storage.md.
///
/// A key is split at every `/` (empty parts kept). Every part but the last names a
/// directory, the last names the object's file:
///
///   file name       = encode(part)
///   directory name  = encode(part) + "%"
///   encode("")      = "%"                 so `a//b` and `photos/` work
///   encode(part)    = part with `%` → `%25`, NUL → `%00`, and `.`/`..` → `%2E`/`%2E%2E`
///
/// The trailing `%` keeps object `a` and prefix `a/` apart (both may exist), and no encoded
/// name is `.`, `..` or contains `/`, so no key can leave its bucket. A part whose encoding
/// would exceed a file name's 255 bytes is shortened to a readable head + `%h` + a SHA-256
/// of the part; the full part is then kept in the entry's `user.liteio.name` attribute.
public enum KeyMapping {
    public static let maxKeyBytes = 1024
    /// Room for the directory suffix inside NAME_MAX (255).
    static let maxNameBytes = 254
    static let hashMarker = "%h"
    public static let longNameAttribute = "user.liteio.name"

    public struct Entry: Equatable, Sendable {
        /// The on-disk name.
        public let name: String
        /// True when the full part does not fit in the name and lives in an attribute.
        public let isHashed: Bool
        /// The key part it stands for.
        public let part: String
    }

    /// Checks an S3 key; S3 accepts any UTF-8 string of 1 to 1024 bytes.
    public static func validate(_ key: String) throws {
        if key.utf8.isEmpty { throw StorageError.invalidKey("empty key") }
        if key.utf8.count > maxKeyBytes { throw StorageError.keyTooLong }
    }

    /// Relative path entries for a key: directories first, then the file.
    public static func entries(for key: String) -> (directories: [Entry], file: Entry) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let directories = parts.dropLast().map { entry(for: $0, directory: true) }
        return (directories, entry(for: parts.last!, directory: false))
    }

    public static func entry(for part: String, directory: Bool) -> Entry {
        let suffix = directory ? "%" : ""
        let encoded = encode(part)
        if encoded.utf8.count <= maxNameBytes { return Entry(name: encoded + suffix, isHashed: false, part: part) }
        let digest = Digest.hash(.sha256, Array(part.utf8)).hex.prefix(32)
        let head = readableHead(encoded, maxBytes: maxNameBytes - hashMarker.utf8.count - 32)
        return Entry(name: head + hashMarker + digest + suffix, isHashed: true, part: part)
    }

    static func encode(_ part: String) -> String {
        switch part {
        case "": return "%"
        case ".": return "%2E"
        case "..": return "%2E%2E"
        default:
            guard part.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == 0 }) else { return part }
            var out = ""
            for scalar in part.unicodeScalars {
                switch scalar {
                case "%": out += "%25"
                case "\0": out += "%00"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out
        }
    }

    /// What an on-disk name stands for: the key part, whether it is a directory, or nil for
    /// a hashed name (read its attribute) or a name the mapping never produces.
    public static func decode(_ name: String) -> (part: String, isDirectory: Bool)? {
        if name.isEmpty || name.contains(hashMarker) { return nil }
        if name == "%" { return ("", false) }
        let isDirectory = isDirectory(name)
        let body = isDirectory ? String(name.dropLast()) : name
        if body == "%" { return ("", true) }
        guard let part = percentDecode(body) else { return nil }
        return (part, isDirectory)
    }

    public static func isHashed(_ name: String) -> Bool { name.contains(hashMarker) }

    /// True for a directory's on-disk name (`…%`; `%` alone is the file of the empty part).
    public static func isDirectory(_ name: String) -> Bool { name.hasSuffix("%") && name != "%" }

    private static func percentDecode(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes = [UInt8]()
        var it = Array(text.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(c)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The longest prefix of `encoded` within `maxBytes` that ends on a character boundary
    /// and does not cut an escape.
    private static func readableHead(_ encoded: String, maxBytes: Int) -> String {
        var out = ""
        var bytes = 0
        for ch in encoded {
            let n = String(ch).utf8.count
            if bytes + n > maxBytes { break }
            out.append(ch)
            bytes += n
        }
        // Drop a partial escape such as "%2" at the end.
        if let pct = out.suffix(2).lastIndex(of: "%") { out = String(out[..<pct]) }
        return out
    }
}
