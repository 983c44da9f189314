import Crypto
import FastCGI
import Glibc

/// What the client promised about the body in `x-amz-content-sha256`.
enum PayloadMode: Equatable {
    /// Hex SHA-256 of the whole body, checked after it has been read.
    case sha256(String)
    case unsigned
    /// aws-chunked with a signature per chunk (and maybe a signed trailer).
    case streamingSigned(trailer: Bool)
    /// aws-chunked without signatures, checksum in a trailer.
    case streamingUnsignedTrailer

    init?(_ header: String?) {
        switch header {
        case nil, "UNSIGNED-PAYLOAD": self = .unsigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": self = .streamingSigned(trailer: false)
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": self = .streamingSigned(trailer: true)
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": self = .streamingUnsignedTrailer
        case let hash?:
            guard hash.utf8.count == 64, hash.utf8.allSatisfy({ isxdigit(Int32($0)) != 0 }) else { return nil }
            self = .sha256(hash.lowercased())
        }
    }

    var isChunked: Bool {
        switch self {
        case .streamingSigned, .streamingUnsignedTrailer: true
        default: false
        }
    }
}

/// A verified request's identity and what is needed to keep verifying its body.
struct Authentication {
    let user: User
    let payload: PayloadMode
    /// For streaming signatures: the key, scope, timestamp and seed signature chunks chain from.
    let signingKey: [UInt8]
    let scope: SigV4.Scope
    let amzDate: String
    let seedSignature: String
    /// Header names as the client signed them: the only place `my_key` and `my-key` still differ
    /// (nginx hands both over as HTTP_X_AMZ_META_MY_KEY).
    let signedHeaders: [String]
}

/// Checks SigV4 in the Authorization header or in a presigned URL's query.
struct Authenticator {
    let credentials: Credentials
    /// AWS refuses requests whose clock differs from its own by more than 15 minutes.
    static let maxSkewSeconds: Int64 = 15 * 60
    static let maxPresignedExpiry: Int64 = 7 * 24 * 3600

    func authenticate(_ request: S3Request, now: Int64 = Int64(time(nil))) throws(S3Error) -> Authentication {
        if let header = request.headers["authorization"] {
            return try verifyHeader(header, request, now: now)
        }
        if request.query.has("X-Amz-Signature") {
            return try verifyPresigned(request, now: now)
        }
        throw S3Error.accessDenied  // anonymous access is not offered
    }

    private func verifyHeader(_ header: String, _ request: S3Request, now: Int64) throws(S3Error) -> Authentication {
        guard header.hasPrefix(SigV4.algorithm + " ") else {
            throw S3Error.invalidArgument("Only AWS4-HMAC-SHA256 (SigV4) authorization is supported.")
        }
        var fields: [String: String] = [:]
        for part in header.dropFirst(SigV4.algorithm.count + 1).split(separator: ",") {
            let kv = part.trimmingCharacters().split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let credential = fields["Credential"], let signed = fields["SignedHeaders"],
              let signature = fields["Signature"] else { throw malformed("The authorization header is malformed.") }
        guard let amzDate = request.headers["x-amz-date"] ?? request.headers["date"].flatMap(amzDateFromHTTPDate) else {
            throw S3Error.accessDenied
        }
        let (user, scope) = try resolve(credential: credential, amzDate: amzDate)
        try checkSkew(amzDate, now: now)
        guard let payload = PayloadMode(request.headers["x-amz-content-sha256"]) else {
            throw S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a hex SHA-256.")
        }
        let signedHeaders = signed.split(separator: ";").map(String.init)
        guard signedHeaders.contains("host") else { throw malformed("The host header must be signed.") }
        guard let canonical = SigV4.canonicalRequest(
            method: request.method, rawPath: request.http.rawPath, query: request.query,
            headers: request.headers, signedHeaders: signedHeaders,
            payloadHash: request.headers["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD")
        else { throw S3Error.signatureMismatch }
        let key = SigV4.signingKey(secret: user.secretKey, scope: scope)
        let expected = SigV4.signature(key: key, SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical))
        guard constantTimeEquals(expected, signature) else { throw S3Error.signatureMismatch }
        return Authentication(user: user, payload: payload, signingKey: key, scope: scope, amzDate: amzDate,
                              seedSignature: signature, signedHeaders: signedHeaders)
    }

    private func verifyPresigned(_ request: S3Request, now: Int64) throws(S3Error) -> Authentication {
        let q = request.query
        guard q["X-Amz-Algorithm"] == SigV4.algorithm, let credential = q["X-Amz-Credential"],
              let amzDate = q["X-Amz-Date"], let signed = q["X-Amz-SignedHeaders"],
              let signature = q["X-Amz-Signature"], let expiresText = q["X-Amz-Expires"],
              let expires = Int64(expiresText)
        else { throw S3Error.accessDenied }
        guard expires >= 1, expires <= Authenticator.maxPresignedExpiry else {
            throw S3Error(400, "AuthorizationQueryParametersError",
                          "X-Amz-Expires must be less than a week (in seconds) that is 604800")
        }
        let (user, scope) = try resolve(credential: credential, amzDate: amzDate)
        guard let start = HTTPDate.parseAmzDate(amzDate) else { throw S3Error.accessDenied }
        if now > start + expires { throw S3Error(403, "AccessDenied", "Request has expired") }
        if start - now > Authenticator.maxSkewSeconds { throw S3Error(403, "AccessDenied", "Request is not valid yet") }
        let signedHeaders = signed.split(separator: ";").map(String.init)
        guard let canonical = SigV4.canonicalRequest(
            method: request.method, rawPath: request.http.rawPath, query: q, headers: request.headers,
            signedHeaders: signedHeaders, payloadHash: request.headers["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD",
            excludingQuery: "X-Amz-Signature")
        else { throw S3Error.signatureMismatch }
        let key = SigV4.signingKey(secret: user.secretKey, scope: scope)
        let expected = SigV4.signature(key: key, SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical))
        guard constantTimeEquals(expected, signature) else { throw S3Error.signatureMismatch }
        return Authentication(user: user, payload: .unsigned, signingKey: key, scope: scope, amzDate: amzDate,
                              seedSignature: signature, signedHeaders: signedHeaders)
    }

    /// `AKID/20130524/us-east-1/s3/aws4_request` → the user and the scope.
    private func resolve(credential: String, amzDate: String) throws(S3Error) -> (User, SigV4.Scope) {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[4] == "aws4_request", parts[3] == "s3" else {
            throw malformed("The credential scope is malformed.")
        }
        guard amzDate.hasPrefix(parts[1]) else { throw malformed("The credential date does not match x-amz-date.") }
        guard let user = credentials.user(accessKey: parts[0]) else { throw S3Error.invalidAccessKey }
        return (user, SigV4.Scope(date: parts[1], region: parts[2], service: parts[3]))
    }

    private func checkSkew(_ amzDate: String, now: Int64) throws(S3Error) {
        guard let time = HTTPDate.parseAmzDate(amzDate) else { throw S3Error.accessDenied }
        if abs(time - now) > Authenticator.maxSkewSeconds {
            throw S3Error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
        }
    }

    private func amzDateFromHTTPDate(_ text: String) -> String? {
        guard let seconds = HTTPDate.parseRFC1123(text) else { return nil }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y%m%dT%H%M%SZ", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func malformed(_ message: String) -> S3Error {
        S3Error(400, "AuthorizationHeaderMalformed", message)
    }
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var s = self
        while let f = s.first, f == " " { s = s.dropFirst() }
        while let l = s.last, l == " " { s = s.dropLast() }
        return s
    }
}
