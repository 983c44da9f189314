import FastCGI

/// A request resolved to S3 terms: which bucket and key, which query, which user.
final class S3Request {
    let http: Request
    let bucket: String?
    let key: String?
    let query: QueryItems
    /// The authenticated user's access key (set after authentication).
    var user: User?
    /// Header names exactly as signed (set after authentication).
    var signedHeaders: [String] = []

    init(http: Request, bucket: String?, key: String?, query: QueryItems) {
        self.http = http
        self.bucket = bucket
        self.key = key
        self.query = query
    }

    var method: String { http.method }
    var headers: Headers { http.headers }

    /// `/bucket/key` as AWS names the resource in errors.
    var resource: String {
        guard let bucket else { return "/" }
        return "/" + bucket + (key.map { "/" + $0 } ?? "")
    }

    /// Resolves bucket and key from a path-style URL, or from the Host header when it is a
    /// virtual-host name under `baseDomain`.
    static func route(_ http: Request, baseDomain: String?) throws(S3Error) -> S3Request {
        let query = try QueryItems(raw: http.rawQuery)
        guard let path = URIEncoding.decode(http.rawPath), path.hasPrefix("/") else {
            throw S3Error.invalidArgument("Malformed request path.")
        }
        let rest = path.dropFirst()
        if let baseDomain, let host = http.headers["host"] {
            let hostname = host.split(separator: ":").first.map(String.init)?.lowercased() ?? ""
            if hostname.hasSuffix("." + baseDomain) {
                let bucket = String(hostname.dropLast(baseDomain.count + 1))
                return S3Request(http: http, bucket: bucket, key: rest.isEmpty ? nil : String(rest), query: query)
            }
        }
        if rest.isEmpty { return S3Request(http: http, bucket: nil, key: nil, query: query) }
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let key = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
        return S3Request(http: http, bucket: String(parts[0]), key: key, query: query)
    }
}
