import Crypto
import FastCGI
import Storage

extension S3Service {
    /// PutObject: only a fully received and verified body is published.
    func putObject(_ request: S3Request, _ auth: Authentication, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let customerKey = try customerKey(request, .target)
        var metadata = ObjectMetadata(size: 0, etag: "", modified: 0)
        (metadata.system, metadata.user) = try storedHeaders(request)
        metadata.tags = try taggingHeader(request)
        let ingest = try Ingest(request, auth, customerKey: customerKey)
        let onlyIfAbsent = try checkWriteConditions(request, bucket: bucket, key: key)
        let writer = try store.beginPut(bucket: bucket, key: key)
        let body = try bodyStream(request, auth)
        let result = try ingest.run(from: body.stream, into: writer, body: body)
        metadata.size = result.size
        metadata.etag = result.etag
        metadata.checksums = result.checksums
        metadata.modified = nowMillis()
        if let customerKey, let iv = result.iv { metadata.sse = SSECInfo(keyMD5: customerKey.md5, iv: Base64.encode(iv)) }
        if request.headers["if-match"] != nil { _ = try checkWriteConditions(request, bucket: bucket, key: key) }
        try writer.commit(metadata, onlyIfAbsent: onlyIfAbsent)

        var headers = [("ETag", "\"\(metadata.etag)\"")]
        for (algorithm, value) in metadata.checksums { headers.append(("x-amz-checksum-" + algorithm, value)) }
        if let customerKey { headers += CustomerKey.responseHeaders(keyMD5: customerKey.md5) }
        return Reply(status: 200, headers: headers)
    }

    /// If-None-Match: * (returns true: publish only if absent, atomically) and If-Match (checked
    /// before the body and again just before publishing; a write in between can still slip through).
    func checkWriteConditions(_ request: S3Request, bucket: String, key: String) throws -> Bool {
        let ifNoneMatch = request.headers["if-none-match"]
        let ifMatch = request.headers["if-match"]
        guard ifNoneMatch != nil || ifMatch != nil else { return false }
        if let ifNoneMatch, ifNoneMatch.trimmingSpaces() != "*" {
            throw S3Error.notImplemented("If-None-Match on PUT accepts only *")
        }
        let current: ObjectMetadata?
        do { current = try store.openObject(bucket: bucket, key: key).metadata } catch StorageError.noSuchKey { current = nil }
        if ifNoneMatch != nil, current != nil {
            throw S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                          details: [("Condition", "If-None-Match")])
        }
        if let ifMatch {
            guard let current else { throw S3Error.noSuchKey(key) }
            let tags = ifMatch.split(separator: ",").map { $0.trimmingCharacters().replacingOccurrences(of: "\"", with: "") }
            if !tags.contains(current.etag) && !tags.contains("*") { throw preconditionFailed }
        }
        return ifNoneMatch != nil
    }

    /// Content-Type and the other headers S3 stores and returns, and `x-amz-meta-*`.
    func storedHeaders(_ request: S3Request) throws(S3Error) -> (system: [String: String], user: [String: String]) {
        let headers = request.headers
        let signedSpelling = Dictionary(request.signedHeaders.map { (Headers.normalize($0), $0) }, uniquingKeysWith: { a, _ in a })
        var system: [String: String] = [:]
        for name in S3Service.storedSystemHeaders {
            if let value = headers[name] { system[name] = value }
        }
        if system["content-type"] == nil { system["content-type"] = "binary/octet-stream" }
        // aws-chunked describes the upload's framing, not the object: S3 drops it.
        if let encoding = system["content-encoding"] {
            let kept = encoding.split(separator: ",").map { $0.trimmingCharacters() }.filter { $0 != "aws-chunked" }
            system["content-encoding"] = kept.isEmpty ? nil : kept.joined(separator: ",")
        }
        var user: [String: String] = [:]
        var size = 0
        for (name, value) in headers.fields where name.hasPrefix("x-amz-meta-") {
            let short = String((signedSpelling[name] ?? name).dropFirst("x-amz-meta-".count))
            user[short] = user[short].map { $0 + "," + value } ?? value
            size += short.utf8.count + value.utf8.count
        }
        if size > 2048 {
            throw S3Error(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
        }
        return (system, user)
    }

    static let storedSystemHeaders = ["content-type", "content-encoding", "content-disposition",
                                      "content-language", "cache-control", "expires"]
}
