import Crypto
import FastCGI
import Storage

extension S3Service {
    /// PutObject: the body streams through decoding, digests and (for SSE-C) encryption into an
    /// anonymous file; only a fully verified body is published.
    func putObject(_ request: S3Request, _ auth: Authentication, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let customerKey = try customerKey(request, .target)
        var metadata = ObjectMetadata(size: 0, etag: "", modified: 0)
        (metadata.system, metadata.user) = try storedHeaders(request.headers)
        let contentMD5 = try request.headers["content-md5"].map { (text) throws(S3Error) in
            guard let md5 = Base64.decode(text), md5.count == 16 else { throw S3Error.invalidDigest }
            return md5
        }

        let writer = try store.beginPut(bucket: bucket, key: key)
        let body = try bodyStream(request, auth)
        let plainMD5 = Digest(.md5)
        let storedMD5 = customerKey == nil ? nil : Digest(.md5)
        let payloadHash: Digest? = if case .sha256 = auth.payload { Digest(.sha256) } else { nil }
        var iv: [UInt8] = []
        var cipher: AESCTR?
        if let customerKey {
            iv = Random.bytes(AESCTR.ivSize)
            cipher = AESCTR(key: customerKey.key, iv: iv)
        }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: S3Service.bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var total: UInt64 = 0
        while true {
            let n = try body.stream.readFully(into: buffer)
            if n == 0 { break }
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            plainMD5.update(UnsafeRawBufferPointer(chunk))
            payloadHash?.update(UnsafeRawBufferPointer(chunk))
            if let cipher {
                cipher.apply(chunk)
                storedMD5?.update(UnsafeRawBufferPointer(chunk))
            }
            try writer.write(UnsafeRawBufferPointer(chunk))
            total += UInt64(n)
        }
        try body.finish(length: total)

        if case .sha256(let expected) = auth.payload, payloadHash!.finish().hex != expected {
            throw S3Error.contentSHA256Mismatch
        }
        let plainDigest = plainMD5.finish()
        if let contentMD5, !constantTimeEquals(contentMD5, plainDigest) { throw S3Error.badDigest }

        metadata.size = total
        metadata.modified = nowMillis()
        // An SSE-C object's ETag is the MD5 of its ciphertext: the MD5 of the plaintext would
        // let anyone who may list confirm a guess of the content.
        metadata.etag = (storedMD5?.finish() ?? plainDigest).hex
        if let customerKey {
            metadata.sse = SSECInfo(keyMD5: customerKey.md5, iv: Base64.encode(iv))
        }
        try writer.commit(metadata)

        var headers = [("ETag", "\"\(metadata.etag)\"")]
        if let customerKey { headers += CustomerKey.responseHeaders(keyMD5: customerKey.md5) }
        return Reply(status: 200, headers: headers)
    }

    /// Content-Type and the other headers S3 stores and returns, and `x-amz-meta-*`.
    func storedHeaders(_ headers: Headers) throws(S3Error) -> (system: [String: String], user: [String: String]) {
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
            let short = String(name.dropFirst("x-amz-meta-".count))
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
