/// Where response bytes go (the FastCGI stdout stream, or a buffer in tests).
public protocol OutputSink: AnyObject {
    /// Writes all bytes or throws `StreamError.clientGone`.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// A streamed response: the head once, then body bytes as they are produced.
public final class Response {
    private let sink: any OutputSink
    public private(set) var status = 0
    public private(set) var headSent = false
    public private(set) var bodyBytes: UInt64 = 0
    /// HEAD responses carry headers only.
    public let omitsBody: Bool

    public init(sink: any OutputSink, omitsBody: Bool = false) {
        self.sink = sink
        self.omitsBody = omitsBody
    }

    public func sendHead(status: Int, headers: [(String, String)]) throws {
        precondition(!headSent, "response head sent twice")
        self.status = status
        headSent = true
        var head = "Status: \(status) \(Response.reason(status))\r\n"
        for (name, value) in headers {
            // A header value can never carry a line break into the response.
            let clean = value.contains(where: { $0 == "\r" || $0 == "\n" })
                ? String(value.filter { $0 != "\r" && $0 != "\n" }) : value
            head += "\(name): \(clean)\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        try bytes.withUnsafeMutableBytes { try sink.write(UnsafeRawBufferPointer($0)) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(headSent, "body before head")
        guard !omitsBody, bytes.count > 0 else { return }
        try sink.write(bytes)
        bodyBytes += UInt64(bytes.count)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 206: "Partial Content"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Payload Too Large"
        case 416: "Range Not Satisfiable"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
