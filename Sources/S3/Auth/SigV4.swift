import Crypto
import FastCGI

/// AWS Signature Version 4 as S3 uses it: the canonical request, the string to sign and
/// the signing key. Pure functions, so the published test vectors can check them.
enum SigV4 {
    static let algorithm = "AWS4-HMAC-SHA256"
    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    struct Scope {
        let date: String     // yyyymmdd
        let region: String
        let service: String

        var text: String { "\(date)/\(region)/\(service)/aws4_request" }
    }

    static func canonicalRequest(method: String, rawPath: Substring, query: QueryItems,
                                 headers: Headers, signedHeaders: [String], payloadHash: String,
                                 excludingQuery excluded: String? = nil) -> String? {
        // S3 signs the path as the client encoded it, which for every SDK is the RFC 3986
        // encoding of the decoded path: rebuilding it accepts clients that escape more or less.
        guard let path = URIEncoding.decode(rawPath) else { return nil }
        let canonicalPath = URIEncoding.encode(path.isEmpty ? "/" : path, keepSlash: true)
        var pairs: [(name: String, value: String)] = []
        for item in query.items where item.name != excluded {
            pairs.append((URIEncoding.encode(item.name), URIEncoding.encode(item.value)))
        }
        pairs.sort { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = pairs.map { $0.name + "=" + $0.value }.joined(separator: "&")
        var canonicalHeaders = ""
        for name in signedHeaders {
            let values = headers.values(name)
            guard !values.isEmpty else { return nil }
            canonicalHeaders += name + ":" + values.map(trimmed).joined(separator: ",") + "\n"
        }
        return [method, canonicalPath, canonicalQuery, canonicalHeaders,
                signedHeaders.joined(separator: ";"), payloadHash].joined(separator: "\n")
    }

    static func stringToSign(amzDate: String, scope: Scope, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope.text, Digest.sha256Hex(canonicalRequest)].joined(separator: "\n")
    }

    static func signingKey(secret: String, scope: Scope) -> [UInt8] {
        let kDate = HMAC.sha256(key: Array(("AWS4" + secret).utf8), scope.date)
        let kRegion = HMAC.sha256(key: kDate, scope.region)
        let kService = HMAC.sha256(key: kRegion, scope.service)
        return HMAC.sha256(key: kService, "aws4_request")
    }

    static func signature(key: [UInt8], _ stringToSign: String) -> String {
        HMAC.sha256(key: key, stringToSign).hex
    }

    /// Header values are trimmed and inner runs of spaces collapse to one.
    private static func trimmed(_ value: String) -> String {
        var out = ""
        var lastWasSpace = false
        for ch in value.trimmingSpaces() {
            if ch == " " {
                if !lastWasSpace { out.append(ch) }
                lastWasSpace = true
            } else {
                out.append(ch)
                lastWasSpace = false
            }
        }
        return out
    }
}

extension String {
    func trimmingSpaces() -> Substring {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
