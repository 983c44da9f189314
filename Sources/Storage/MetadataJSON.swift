/// A small JSON reader and writer for object metadata. Foundation's JSONDecoder takes longer to
/// decode one object's metadata than the rest of a 4 KiB GET (≈ 200 µs vs a few µs here), and
/// metadata is read on every GET, HEAD and listed key. The format is ordinary JSON either way.
enum JSONValue: Equatable {
    case string(String)
    /// Numbers keep their text: metadata holds only integers, parsed by the field that wants them.
    case number(String)
    case object([String: JSONValue])
    case array([JSONValue])
    case bool(Bool)
    case null

    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int64: Int64? { if case .number(let n) = self { Int64(n) } else { nil } }
    var uint64: UInt64? { if case .number(let n) = self { UInt64(n) } else { nil } }
    var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }

    var stringMap: [String: String]? {
        guard case .object(let fields) = self else { return nil }
        var out: [String: String] = [:]
        for (k, v) in fields {
            guard let s = v.string else { return nil }
            out[k] = s
        }
        return out
    }
}

struct JSONReader {
    private let bytes: [UInt8]
    private var i = 0

    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        var reader = JSONReader(bytes: bytes)
        guard let value = reader.value() else { return nil }
        reader.skipSpace()
        return reader.i == bytes.count ? value : nil
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
    }

    private mutating func value() -> JSONValue? {
        skipSpace()
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    private mutating func literal(_ word: String, _ value: JSONValue) -> JSONValue? {
        let w = Array(word.utf8)
        guard bytes.count - i >= w.count, Array(bytes[i..<i + w.count]) == w else { return nil }
        i += w.count
        return value
    }

    private mutating func number() -> JSONValue? {
        let start = i
        while i < bytes.count, (bytes[i] >= 0x30 && bytes[i] <= 0x39) || [UInt8(ascii: "-"), UInt8(ascii: "+"),
              UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) { i += 1 }
        guard i > start else { return nil }
        return .number(String(decoding: bytes[start..<i], as: UTF8.self))
    }

    private mutating func object() -> JSONValue? {
        i += 1
        var fields: [String: JSONValue] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            guard let v = value() else { return nil }
            fields[key] = v
            skipSpace()
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
            return nil
        }
    }

    private mutating func array() -> JSONValue? {
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            guard let v = value() else { return nil }
            items.append(v)
            skipSpace()
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            return nil
        }
    }

    /// A string literal starting at the opening quote.
    private mutating func string() -> String? {
        i += 1
        var out = [UInt8]()
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if c == UInt8(ascii: "\"") { return String(validating: out, as: UTF8.self) }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard i < bytes.count else { return nil }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(scalar) {  // a surrogate pair
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
                    i += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out += Array(String(Character(u)).utf8)
            default: return nil
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard bytes.count - i >= 4, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else { return nil }
        i += 4
        return v
    }
}

/// Writes JSON text; keys are written in the order given (callers sort them).
public enum JSONWriter {
    /// A JSON string literal (also used for the access log's lines).
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func map(_ m: [String: String]) -> String {
        "{" + m.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            .map { quote($0.key) + ":" + quote($0.value) }.joined(separator: ",") + "}"
    }

    static func object(_ fields: [(String, String?)]) -> String {
        "{" + fields.compactMap { k, v in v.map { quote(k) + ":" + $0 } }.joined(separator: ",") + "}"
    }
}

extension ObjectMetadata {
    /// Keys in sorted order, as JSONEncoder's `.sortedKeys` wrote them (older files read the same).
    var json: [UInt8] {
        let parts = self.parts.map { list in
            "[" + list.map { p in
                JSONWriter.object([("etag", JSONWriter.quote(p.etag)), ("iv", p.iv.map(JSONWriter.quote)),
                                   ("number", String(p.number)), ("size", String(p.size))])
            }.joined(separator: ",") + "]"
        }
        let sse = self.sse.map { s in
            JSONWriter.object([("algorithm", JSONWriter.quote(s.algorithm)), ("iv", JSONWriter.quote(s.iv)),
                               ("keyMD5", JSONWriter.quote(s.keyMD5))])
        }
        return Array(JSONWriter.object([
            ("checksums", JSONWriter.map(checksums)), ("etag", JSONWriter.quote(etag)), ("modified", String(modified)),
            ("name", name.map(JSONWriter.quote)), ("parts", parts), ("size", String(size)), ("sse", sse),
            ("system", JSONWriter.map(system)), ("tags", JSONWriter.map(tags)), ("user", JSONWriter.map(user)),
            ("v", String(v)),
        ]).utf8)
    }

    init?(json bytes: [UInt8]) {
        guard let root = JSONReader.parse(bytes), let size = root["size"]?.uint64, let etag = root["etag"]?.string,
              let modified = root["modified"]?.int64 else { return nil }
        self.init(size: size, etag: etag, modified: modified)
        v = Int(root["v"]?.int64 ?? 1)
        system = root["system"]?.stringMap ?? [:]
        user = root["user"]?.stringMap ?? [:]
        checksums = root["checksums"]?.stringMap ?? [:]
        tags = root["tags"]?.stringMap ?? [:]
        name = root["name"]?.string
        if let s = root["sse"] {
            guard let keyMD5 = s["keyMD5"]?.string, let iv = s["iv"]?.string else { return nil }
            sse = SSECInfo(keyMD5: keyMD5, iv: iv)
            sse?.algorithm = s["algorithm"]?.string ?? "AES256"
        }
        if let list = root["parts"]?.array {
            var out: [PartInfo] = []
            out.reserveCapacity(list.count)
            for p in list {
                guard let number = p["number"]?.int64, let size = p["size"]?.uint64, let etag = p["etag"]?.string else { return nil }
                out.append(PartInfo(number: Int(number), size: size, etag: etag, iv: p["iv"]?.string))
            }
            parts = out
        }
    }
}
