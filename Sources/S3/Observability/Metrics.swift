import CSystem
import Foundation

/// Request counters, byte totals and a latency histogram, in Prometheus text format.
/// The counters live in one block of memory; under a supervisor it is POSIX shared memory that
/// every worker process adds to atomically, so a scrape through any worker sees the totals.
public final class Metrics: @unchecked Sendable {
    static let operations = [
        "-", "ListBuckets", "CreateBucket", "HeadBucket", "DeleteBucket", "GetBucketLocation", "ListObjects",
        "ListObjectsV2", "ListMultipartUploads", "DeleteObjects", "PutObject", "CopyObject", "GetObject", "HeadObject",
        "DeleteObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
        "AbortMultipartUpload", "ListParts", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging",
    ]
    static let statuses = [200, 204, 206, 304, 400, 403, 404, 405, 409, 411, 412, 416, 500, 501, 503, 0]
    static let buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    private static let ops = operations.count
    // Layout, in 64-bit counters.
    private static let requestsAt = 0
    private static let bytesInAt = requestsAt + ops * statuses.count
    private static let bytesOutAt = bytesInAt + ops
    private static let histogramAt = bytesOutAt + ops           // per op: buckets + sum (µs) + count
    private static let histogramWidth = buckets.count + 2
    private static let inFlightAt = histogramAt + ops * histogramWidth
    static let byteCount = (inFlightAt + 1) * 8

    private let counters: UnsafeMutablePointer<UInt64>

    /// Private counters for a single process.
    public init() {
        counters = .allocate(capacity: Metrics.byteCount / 8)
        counters.initialize(repeating: 0, count: Metrics.byteCount / 8)
    }

    /// Counters shared by name (`create`: the supervisor makes them, workers attach).
    public init?(shared name: String, create: Bool) {
        guard let p = liteio_map_shared(name, Metrics.byteCount, create ? 1 : 0) else { return nil }
        counters = p.bindMemory(to: UInt64.self, capacity: Metrics.byteCount / 8)
    }

    public static func unlinkShared(_ name: String) { liteio_unlink_shared(name) }

    private func add(_ index: Int, _ delta: Int64) {
        liteio_atomic_add(UnsafeMutablePointer<CUnsignedLongLong>(OpaquePointer(counters + index)), delta)
    }

    private func load(_ index: Int) -> UInt64 {
        UInt64(liteio_atomic_load(UnsafePointer<CUnsignedLongLong>(OpaquePointer(counters + index))))
    }

    func begin() { add(Metrics.inFlightAt, 1) }

    func end(operation: String, status: Int, bytesIn: UInt64, bytesOut: UInt64, seconds: Double) {
        add(Metrics.inFlightAt, -1)
        let op = Metrics.operations.firstIndex(of: operation) ?? 0
        let statusIndex = Metrics.statuses.firstIndex(of: status) ?? Metrics.statuses.count - 1
        add(Metrics.requestsAt + op * Metrics.statuses.count + statusIndex, 1)
        add(Metrics.bytesInAt + op, Int64(bytesIn))
        add(Metrics.bytesOutAt + op, Int64(bytesOut))
        let base = Metrics.histogramAt + op * Metrics.histogramWidth
        if let bucket = Metrics.buckets.firstIndex(where: { seconds <= $0 }) { add(base + bucket, 1) }
        add(base + Metrics.buckets.count, Int64(seconds * 1e6))
        add(base + Metrics.buckets.count + 1, 1)
    }

    /// Prometheus text exposition format 0.0.4.
    public func render() -> String {
        var out = "# HELP liteio_requests_total S3 requests by operation and HTTP status.\n# TYPE liteio_requests_total counter\n"
        for (o, name) in Metrics.operations.enumerated() {
            for (s, status) in Metrics.statuses.enumerated() {
                let n = load(Metrics.requestsAt + o * Metrics.statuses.count + s)
                if n > 0 { out += "liteio_requests_total{operation=\"\(name)\",status=\"\(status == 0 ? "other" : String(status))\"} \(n)\n" }
            }
        }
        for (metric, at, help) in [("liteio_received_bytes_total", Metrics.bytesInAt, "Request body bytes received."),
                                   ("liteio_sent_bytes_total", Metrics.bytesOutAt, "Response body bytes sent.")] {
            out += "# HELP \(metric) \(help)\n# TYPE \(metric) counter\n"
            for (o, name) in Metrics.operations.enumerated() where load(at + o) > 0 {
                out += "\(metric){operation=\"\(name)\"} \(load(at + o))\n"
            }
        }
        out += "# HELP liteio_request_duration_seconds Time from request start to the last byte written.\n"
        out += "# TYPE liteio_request_duration_seconds histogram\n"
        for (o, name) in Metrics.operations.enumerated() {
            let base = Metrics.histogramAt + o * Metrics.histogramWidth
            let count = load(base + Metrics.buckets.count + 1)
            guard count > 0 else { continue }
            var cumulative: UInt64 = 0
            for (b, le) in Metrics.buckets.enumerated() {
                cumulative += load(base + b)
                out += "liteio_request_duration_seconds_bucket{operation=\"\(name)\",le=\"\(le)\"} \(cumulative)\n"
            }
            out += "liteio_request_duration_seconds_bucket{operation=\"\(name)\",le=\"+Inf\"} \(count)\n"
            out += "liteio_request_duration_seconds_sum{operation=\"\(name)\"} \(Double(load(base + Metrics.buckets.count)) / 1e6)\n"
            out += "liteio_request_duration_seconds_count{operation=\"\(name)\"} \(count)\n"
        }
        out += "# HELP liteio_requests_in_flight Requests being served now.\n# TYPE liteio_requests_in_flight gauge\n"
        out += "liteio_requests_in_flight \(Int64(bitPattern: load(Metrics.inFlightAt)))\n"
        return out
    }
}
