import FastCGI
import Foundation
import Storage

/// What an operation answers: status, headers and a body written after the head.
struct Reply {
    enum Body {
        case empty
        case bytes([UInt8])
        case stream((Response) throws -> Void)
    }

    var status: Int
    var headers: [(String, String)] = []
    var body: Body = .empty

    static func xml(_ text: String, status: Int = 200) -> Reply {
        let bytes = Array(text.utf8)
        return Reply(status: status, headers: [("Content-Type", "application/xml"), ("Content-Length", String(bytes.count))],
                     body: .bytes(bytes))
    }
}

public struct ServiceSettings: Sendable {
    public var region: String
    /// Virtual-host-style addressing: `bucket.<baseDomain>`.
    public var baseDomain: String?
    /// Accept SSE-C over plain HTTP (loopback test set-ups only).
    public var allowInsecureSSEC: Bool
    /// Smallest part but the last of a multipart upload (S3: 5 MiB; tests lower it).
    public var minPartSize: UInt64

    public init(region: String = "us-east-1", baseDomain: String? = nil, allowInsecureSSEC: Bool = false,
                minPartSize: UInt64 = 5 << 20) {
        self.region = region
        self.baseDomain = baseDomain
        self.allowInsecureSSEC = allowInsecureSSEC
        self.minPartSize = minPartSize
    }
}

/// The S3 front door: routes, authenticates, dispatches to an operation and renders errors.
public final class S3Service: Sendable {
    static let bufferSize = 256 * 1024
    /// How much of an unread request body we swallow before answering an error, so that
    /// nginx can deliver the answer instead of failing on a half-sent upload.
    static let drainLimit: UInt64 = 64 << 20

    let store: Store
    let settings: ServiceSettings
    private let credentialsBox: CredentialsBox
    private let log: AccessLog
    private let metrics: Metrics

    public init(store: Store, credentials: Credentials, settings: ServiceSettings, log: AccessLog = AccessLog(),
                metrics: Metrics = Metrics()) {
        self.store = store
        self.settings = settings
        self.credentialsBox = CredentialsBox(credentials)
        self.log = log
        self.metrics = metrics
    }

    /// SIGHUP: new credentials apply to the next request.
    public func reload(credentials: Credentials) { credentialsBox.replace(credentials) }

    public func handle(_ http: Request, _ response: Response) {
        if http.rawPath.hasPrefix("/-/") {
            // Health and metrics: no bucket can be named "-"; nginx lets only local clients reach them.
            serveInternal(http, response)
            return
        }
        let started = DispatchTime.now()
        metrics.begin()
        var operation = "-"
        var s3: S3Request?
        var errorCode: String?
        do {
            let request = try S3Request.route(http, baseDomain: settings.baseDomain)
            s3 = request
            let auth = try Authenticator(credentials: credentialsBox.current).authenticate(request)
            request.user = auth.user
            request.signedHeaders = auth.signedHeaders
            let (name, run) = try dispatch(request, auth)
            operation = name
            try send(try run(), to: response, requestID: http.id)
        } catch let error as S3Error {
            errorCode = error.code
            sendError(error, http: http, resource: s3?.resource ?? String(http.rawPath), response: response)
        } catch StreamError.clientGone {
            errorCode = "ClientGone"
        } catch StreamError.truncated {
            errorCode = S3Error.incompleteBody.code
            sendError(.incompleteBody, http: http, resource: s3?.resource ?? "", response: response)
        } catch let error as StorageError {
            let mapped = S3Service.map(error, s3)
            errorCode = mapped.code
            if mapped.status == 500 { log.error(http.id, "\(operation): \(error)") }
            sendError(mapped, http: http, resource: s3?.resource ?? "", response: response)
        } catch {
            errorCode = "InternalError"
            log.error(http.id, "\(operation): \(error)")
            sendError(.internalError, http: http, resource: s3?.resource ?? "", response: response)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        metrics.end(operation: operation, status: response.status, bytesIn: http.bodyBytesRead,
                    bytesOut: response.bodyBytes, seconds: seconds)
        log.access(AccessLog.Entry(
            requestID: http.id, user: s3?.user?.accessKey ?? "-", operation: operation,
            bucket: s3?.bucket ?? "-", key: s3?.key ?? "-", status: response.status, error: errorCode,
            bytesIn: http.bodyBytesRead, bytesOut: response.bodyBytes, seconds: seconds))
    }

    /// `/-/health` (the store answers) and `/-/metrics` (Prometheus text).
    private func serveInternal(_ http: Request, _ response: Response) {
        let (status, body): (Int, String) = switch http.rawPath {
        case "/-/health": store.isHealthy ? (200, "ok\n") : (503, "store unavailable\n")
        case "/-/metrics": (200, metrics.render())
        default: (404, "not found\n")
        }
        let bytes = Array(body.utf8)
        try? response.sendHead(status: status, headers: [("Content-Type", "text/plain; version=0.0.4"),
                                                          ("Content-Length", String(bytes.count))])
        try? response.write(bytes)
    }

    private func send(_ reply: Reply, to response: Response, requestID: String) throws {
        var headers = reply.headers
        headers.append(("x-amz-request-id", requestID))
        if case .empty = reply.body, !headers.contains(where: { $0.0 == "Content-Length" }), reply.status != 304 {
            headers.append(("Content-Length", "0"))
        }
        try response.sendHead(status: reply.status, headers: headers)
        switch reply.body {
        case .empty: break
        case .bytes(let bytes): try response.write(bytes)
        case .stream(let produce): try produce(response)
        }
    }

    private func sendError(_ error: S3Error, http: Request, resource: String, response: Response) {
        // Mid-body failures cannot be reported any more: the connection just ends.
        guard !response.headSent else { return }
        drain(http.body)
        let body = Array(error.xml(resource: resource, requestID: http.id).utf8)
        try? response.sendHead(status: error.status, headers: [
            ("Content-Type", "application/xml"), ("Content-Length", String(body.count)),
            ("x-amz-request-id", http.id)])
        try? response.write(body)
    }

    private func drain(_ body: any ByteStream) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var total: UInt64 = 0
        while total < S3Service.drainLimit {
            guard let n = try? buffer.withUnsafeMutableBytes({ try body.read(into: $0) }), n > 0 else { return }
            total += UInt64(n)
        }
    }

    static func map(_ error: StorageError, _ request: S3Request?) -> S3Error {
        switch error {
        case .noSuchBucket: .noSuchBucket(request?.bucket ?? "")
        case .noSuchKey: .noSuchKey(request?.key ?? "")
        case .bucketNotEmpty: .bucketNotEmpty
        case .keyTooLong: .keyTooLong
        case .invalidKey(let why): .invalidArgument("Invalid key: \(why)")
        case .bucketExists: S3Error(409, "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system.")
        case .noSuchUpload: S3Error(404, "NoSuchUpload",
            "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
            details: [("UploadId", request?.query["uploadId"] ?? "")])
        case .metadataTooLarge: S3Error(400, "MetadataTooLarge",
            "The object's metadata and tags together exceed what liteio can update in place (about 3,000 bytes of JSON).")
        case .alreadyExists: S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
            details: [("Condition", "If-None-Match")])
        case .system: .internalError
        }
    }

    func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Credentials that SIGHUP can swap while requests run.
final class CredentialsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Credentials

    init(_ value: Credentials) { self.value = value }

    var current: Credentials { lock.withLock { value } }
    func replace(_ new: Credentials) { lock.withLock { value = new } }
}
