import Crypto
import FastCGI
import Storage

extension S3Service {
    /// GetObject and HeadObject: conditions and the SSE-C key are checked before any byte is
    /// sent; the body streams from disk, decrypted from the block of the first byte asked for.
    func getObject(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let customerKey = try customerKey(request, .target)
        let object = try store.openObject(bucket: bucket, key: key)
        let meta = object.metadata
        try CustomerKey.check(customerKey, against: meta.sse)
        if let notModified = try evaluateConditions(request.headers, etag: meta.etag, modified: meta.modified) {
            return notModified
        }

        var range = 0..<meta.size
        var status = 200
        var headers = objectHeaders(meta, query: request.query)
        if let partNumber = request.query["partNumber"] {
            let part = try partRange(meta, partNumber)
            range = part
            status = 206
            headers.append(("Content-Range", "bytes \(part.lowerBound)-\(part.upperBound - 1)/\(meta.size)"))
        } else if let header = request.headers["range"], let requested = try ByteRange.parse(header, size: meta.size) {
            range = requested
            status = 206
            headers.append(("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(meta.size)"))
        }
        headers.append(("Content-Length", String(range.count)))
        if let customerKey { headers += CustomerKey.responseHeaders(keyMD5: customerKey.md5) }
        if request.headers["x-amz-checksum-mode"]?.uppercased() == "ENABLED", range == 0..<meta.size {
            for (algorithm, value) in meta.checksums { headers.append(("x-amz-checksum-" + algorithm, value)) }
        }
        if request.method == "HEAD" { return Reply(status: status, headers: headers) }

        let source = ObjectSource(object, range: range, key: customerKey?.key)
        return Reply(status: status, headers: headers, body: .stream { response in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: S3Service.bufferSize, alignment: 64)
            defer { buffer.deallocate() }
            while true {
                let n = try source.read(into: buffer)
                if n == 0 { return }
                try response.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
        })
    }

    func deleteObject(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        try store.deleteObject(bucket: bucket, key: key)
        return Reply(status: 204)
    }

    /// The headers that describe an object (everything but length and range).
    func objectHeaders(_ meta: ObjectMetadata, query: QueryItems) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("ETag", "\"\(meta.etag)\""),
            ("Last-Modified", HTTPDate.rfc1123(millis: meta.modified)),
            ("Accept-Ranges", "bytes"),
        ]
        for name in S3Service.storedSystemHeaders {
            // response-content-type & co. override what was stored (S3 allows it on GET).
            if let value = query["response-" + name] ?? meta.system[name] { headers.append((canonicalName(name), value)) }
        }
        for (name, value) in meta.user.sorted(by: { $0.key < $1.key }) { headers.append(("x-amz-meta-" + name, value)) }
        if let parts = meta.parts { headers.append(("x-amz-mp-parts-count", String(parts.count))) }
        if !meta.tags.isEmpty { headers.append(("x-amz-tagging-count", String(meta.tags.count))) }
        return headers
    }

    private func canonicalName(_ lower: String) -> String {
        lower.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-")
    }

    private func partRange(_ meta: ObjectMetadata, _ text: String) throws(S3Error) -> Range<UInt64> {
        guard let number = Int(text), number >= 1, number <= 10000 else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive")
        }
        guard let parts = meta.parts else {
            if number == 1 { return 0..<meta.size }
            throw S3Error(416, "InvalidPartNumber", "The requested partnumber is not satisfiable")
        }
        guard number <= parts.count else { throw S3Error(416, "InvalidPartNumber", "The requested partnumber is not satisfiable") }
        let start = parts[0..<number - 1].reduce(UInt64(0)) { $0 + $1.size }
        return start..<start + parts[number - 1].size
    }

    /// If-Match / If-Unmodified-Since (412) and If-None-Match / If-Modified-Since (304),
    /// in RFC 7232's order, which is S3's.
    func evaluateConditions(_ headers: Headers, etag: String, modified: Int64) throws(S3Error) -> Reply? {
        let seconds = modified / 1000
        let matches = { (list: String) in
            list.split(separator: ",").contains { tag in
                let t = tag.trimmingCharacters()
                return t == "*" || t == "\"\(etag)\"" || t == etag[...]
            }
        }
        if let ifMatch = headers["if-match"] {
            if !matches(ifMatch) { throw preconditionFailed }
        } else if let since = headers["if-unmodified-since"].flatMap(HTTPDate.parseRFC1123), seconds > since {
            throw preconditionFailed
        }
        let notModified = Reply(status: 304, headers: [("ETag", "\"\(etag)\""),
                                                       ("Last-Modified", HTTPDate.rfc1123(millis: modified))])
        if let ifNoneMatch = headers["if-none-match"] {
            if matches(ifNoneMatch) { return notModified }
        } else if let since = headers["if-modified-since"].flatMap(HTTPDate.parseRFC1123), seconds <= since {
            return notModified
        }
        return nil
    }

    var preconditionFailed: S3Error {
        S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                details: [("Condition", "If-Match")])
    }
}

/// A single `Range: bytes=…` request.
enum ByteRange {
    /// nil when the header should be ignored (malformed or several ranges, as S3 does);
    /// throws InvalidRange when it cannot be satisfied.
    static func parse(_ header: String, size: UInt64) throws(S3Error) -> Range<UInt64>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters()
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        let unsatisfiable = S3Error(416, "InvalidRange", "The requested range is not satisfiable",
                                    details: [("ActualObjectSize", String(size))])
        if first.isEmpty {
            guard let suffix = UInt64(last) else { return nil }
            guard suffix > 0, size > 0 else { throw unsatisfiable }
            return (size - min(suffix, size))..<size
        }
        guard let start = UInt64(first) else { return nil }
        let end: UInt64
        if last.isEmpty {
            end = size
        } else {
            guard let e = UInt64(last), e >= start else { return nil }
            end = min(e + 1, size)
        }
        guard start < size else { throw unsatisfiable }
        return start..<end
    }
}
