/// One HTTP request as nginx hands it over: what the client sent, nothing interpreted yet.
public final class Request {
    public let method: String
    /// The request target exactly as the client sent (and signed) it, query included.
    public let requestURI: String
    public let headers: Headers
    /// True when nginx received the request over TLS (its `HTTPS` param).
    public let isTLS: Bool
    public let remoteAddress: String
    /// nginx's request id, so its logs and ours share one id.
    public let id: String
    public let body: any ByteStream
    /// The path part of `requestURI`, still percent-encoded.
    public let rawPath: Substring
    /// The query part of `requestURI` (after `?`), still percent-encoded.
    public let rawQuery: Substring

    public init(method: String, requestURI: String, headers: Headers, isTLS: Bool,
                remoteAddress: String = "", id: String, body: any ByteStream) {
        self.method = method
        self.requestURI = requestURI
        self.headers = headers
        self.isTLS = isTLS
        self.remoteAddress = remoteAddress
        self.id = id
        self.body = body
        let parts = requestURI.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        rawPath = parts.first ?? ""
        rawQuery = parts.count > 1 ? parts[1] : ""
    }

    /// Body bytes read so far (for logs and metrics).
    public var bodyBytesRead: UInt64 { (body as? FastCGIInput)?.bytesRead ?? 0 }

}

/// Request headers in arrival order, duplicates kept. Names are lower-case with `-`;
/// nginx turns both `-` and `_` into `_`, so the two are one name here.
public struct Headers: Sendable {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields.map { (Headers.normalize($0.name), $0.value) }
    }

    /// Lower-case ASCII, `_` as `-` (bytes, not Characters: this runs for every header lookup).
    public static func normalize(_ name: String) -> String {
        let bytes = name.utf8
        if !bytes.contains(where: { ($0 >= 65 && $0 <= 90) || $0 == 95 }) { return name }
        return String(decoding: bytes.map { b in
            b == 95 ? 45 : (b >= 65 && b <= 90 ? b + 32 : b)
        }, as: UTF8.self)
    }

    public subscript(name: String) -> String? {
        let key = Headers.normalize(name)
        return fields.first { $0.name == key }?.value
    }

    public func values(_ name: String) -> [String] {
        let key = Headers.normalize(name)
        return fields.filter { $0.name == key }.map(\.value)
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((Headers.normalize(name), value))
    }
}
