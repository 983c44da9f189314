import Crypto
import FastCGI
import Storage

extension S3Service {
    /// CopyObject: the source streams (decrypted with the copy-source key if SSE-C) through the
    /// same ingest as a PUT, re-encrypted under the destination key. Copying an object onto
    /// itself with a new key is SSE-C key rotation.
    func copyObject(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let (sourceBucket, sourceKey) = try copySource(request)
        try requireOwner(request, sourceBucket)
        let sourceCustomerKey = try customerKey(request, .copySource)
        let targetCustomerKey = try customerKey(request, .target)
        let source = try openCopySource(sourceBucket, sourceKey)
        let meta = source.metadata
        try checkCopySourceKey(sourceCustomerKey, meta)
        if meta.sse != nil && targetCustomerKey == nil {
            throw S3Error.invalidRequest(
                "Copying an SSE-C encrypted object requires a destination key too: send x-amz-server-side-encryption-customer-algorithm, -key and -key-MD5.")
        }
        try checkCopyConditions(request.headers, meta)

        let directive = request.headers["x-amz-metadata-directive"]?.uppercased() ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else {
            throw S3Error.invalidArgument("Unknown metadata directive.")
        }
        let sameObject = sourceBucket == bucket && sourceKey == key
        let changesEncryption = targetCustomerKey?.md5 != meta.sse?.keyMD5
        if sameObject && directive == "COPY" && !changesEncryption {
            throw S3Error.invalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
        }

        var metadata = ObjectMetadata(size: 0, etag: "", modified: 0)
        if directive == "REPLACE" {
            (metadata.system, metadata.user) = try storedHeaders(request)
        } else {
            (metadata.system, metadata.user) = (meta.system, meta.user)
        }
        switch request.headers["x-amz-tagging-directive"]?.uppercased() ?? "COPY" {
        case "COPY": metadata.tags = meta.tags
        case "REPLACE": metadata.tags = try taggingHeader(request)
        default: throw S3Error.invalidArgument("Unknown tagging directive.")
        }
        var ingest = Ingest(customerKey: targetCustomerKey)
        if let algorithm = meta.checksums.keys.first.flatMap(Checksum.Algorithm.init(rawValue:)) {
            ingest.checksum = Checksum.Expectation(algorithm: algorithm, value: meta.checksums[algorithm.rawValue], inTrailer: false)
        }
        let writer = try store.beginPut(bucket: bucket, key: key)
        let result = try ingest.run(from: ObjectSource(source, range: 0..<meta.size, key: sourceCustomerKey?.key),
                                    into: writer, body: nil)
        metadata.size = result.size
        metadata.etag = result.etag
        metadata.checksums = result.checksums
        metadata.modified = nowMillis()
        if let targetCustomerKey, let iv = result.iv {
            metadata.sse = SSECInfo(keyMD5: targetCustomerKey.md5, iv: Base64.encode(iv))
        }
        try writer.commit(metadata)

        var doc = XMLDocument(root: "CopyObjectResult")
        doc.element("LastModified", HTTPDate.iso8601(millis: metadata.modified))
        doc.element("ETag", "\"\(metadata.etag)\"")
        var reply = Reply.xml(doc.finish())
        if let targetCustomerKey { reply.headers += CustomerKey.responseHeaders(keyMD5: targetCustomerKey.md5) }
        return reply
    }

    /// `x-amz-copy-source: /bucket/key` (URL-encoded, leading slash optional).
    func copySource(_ request: S3Request) throws(S3Error) -> (String, String) {
        guard let raw = request.headers["x-amz-copy-source"] else { throw S3Error.invalidArgument("Missing x-amz-copy-source") }
        var text = raw.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        if raw.contains("?versionId="), !raw.hasSuffix("?versionId=null") {
            throw S3Error.notImplemented("versioned copy sources")
        }
        if text.hasPrefix("/") { text = text.dropFirst() }
        guard let decoded = URIEncoding.decode(text) else { throw S3Error.invalidArgument("Invalid copy source encoding") }
        let parts = decoded.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
        }
        return (String(parts[0]), String(parts[1]))
    }

    func openCopySource(_ bucket: String, _ key: String) throws -> ObjectReader {
        do {
            return try store.openObject(bucket: bucket, key: key)
        } catch StorageError.noSuchKey {
            throw S3Error.noSuchKey(key)
        } catch StorageError.noSuchBucket {
            throw S3Error.noSuchBucket(bucket)
        }
    }

    /// The copy source's SSE-C key: missing → 400, wrong → 403, as for GET.
    func checkCopySourceKey(_ key: CustomerKey?, _ meta: ObjectMetadata) throws(S3Error) {
        switch (key, meta.sse) {
        case (nil, .some):
            throw S3Error.invalidRequest(
                "The source object was stored using SSE-C: send x-amz-copy-source-server-side-encryption-customer-algorithm, -key and -key-MD5.")
        case (.some, nil):
            throw S3Error.invalidRequest("The copy source encryption parameters are not applicable to this object.")
        default:
            try CustomerKey.check(key, against: meta.sse)
        }
    }

    /// `x-amz-copy-source-if-*`: all failures are 412 for copies.
    func checkCopyConditions(_ headers: Headers, _ meta: ObjectMetadata) throws(S3Error) {
        var mapped = Headers()
        for name in ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"] {
            if let value = headers["x-amz-copy-source-" + name] { mapped.add(name, value) }
        }
        if try evaluateConditions(mapped, etag: meta.etag, modified: meta.modified) != nil { throw preconditionFailed }
    }
}
