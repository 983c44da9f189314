import Foundation

/// One JSON line per request on stderr (journald keeps it). Holds no secrets: no keys,
/// signatures or SSE-C material ever reach it.
public final class AccessLog: Sendable {
    struct Entry: Encodable {
        let requestID: String
        let user: String
        let operation: String
        let bucket: String
        let key: String
        let status: Int
        let error: String?
        let bytesIn: UInt64
        let bytesOut: UInt64
        let seconds: Double
    }

    private let enabled: Bool

    public init(enabled: Bool = true) { self.enabled = enabled }

    func access(_ entry: Entry) {
        guard enabled, let json = try? JSONEncoder().encode(entry) else { return }
        write(json + [UInt8(ascii: "\n")])
    }

    func error(_ requestID: String, _ message: String) {
        write(Array("{\"level\":\"error\",\"requestID\":\"\(requestID)\",\"message\":\(quoted(message))}\n".utf8))
    }

    private func quoted(_ text: String) -> String {
        (try? String(decoding: JSONEncoder().encode(text), as: UTF8.self)) ?? "\"\""
    }

    private func write(_ bytes: some Collection<UInt8>) {
        // One write(2) per line keeps lines from several threads whole.
        let array = Array(bytes)
        array.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
