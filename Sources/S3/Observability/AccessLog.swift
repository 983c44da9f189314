import Foundation
import Storage

/// One JSON line per request on stderr (journald keeps it). Holds no secrets: no keys,
/// signatures or SSE-C material ever reach it.
public final class AccessLog: Sendable {
    struct Entry {
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
        guard enabled else { return }
        // Built by hand: JSONEncoder costs more than serving a small GET.
        var line = "{\"requestID\":\(quoted(entry.requestID)),\"user\":\(quoted(entry.user)),"
        line += "\"operation\":\(quoted(entry.operation)),\"bucket\":\(quoted(entry.bucket)),\"key\":\(quoted(entry.key)),"
        line += "\"status\":\(entry.status),"
        if let error = entry.error { line += "\"error\":\(quoted(error))," }
        line += "\"bytesIn\":\(entry.bytesIn),\"bytesOut\":\(entry.bytesOut),\"seconds\":\(entry.seconds)}\n"
        write(Array(line.utf8))
    }

    func error(_ requestID: String, _ message: String) {
        write(Array("{\"level\":\"error\",\"requestID\":\"\(requestID)\",\"message\":\(quoted(message))}\n".utf8))
    }

    private func quoted(_ text: String) -> String { JSONWriter.quote(text) }

    private func write(_ bytes: some Collection<UInt8>) {
        // One write(2) per line keeps lines from several threads whole.
        let array = Array(bytes)
        array.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
