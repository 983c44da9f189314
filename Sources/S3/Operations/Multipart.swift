import Crypto
import Storage

extension S3Service {
    func createMultipartUpload(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        try Storage.KeyMapping.validate(key)
        let customerKey = try customerKey(request, .target)
        var info = UploadInfo(bucket: bucket, key: key, owner: request.user!.accessKey)
        (info.system, info.user) = try storedHeaders(request)
        info.tags = try taggingHeader(request)
        info.sseKeyMD5 = customerKey?.md5
        if let algorithm = request.headers["x-amz-checksum-algorithm"] {
            guard Checksum.Algorithm(rawValue: algorithm.lowercased()) != nil else {
                throw S3Error.invalidRequest("Checksum algorithm provided is unsupported.")
            }
            info.checksumAlgorithm = algorithm.lowercased()
        }
        let id = try store.createUpload(info)
        var doc = XMLDocument(root: "InitiateMultipartUploadResult")
        doc.element("Bucket", bucket)
        doc.element("Key", key)
        doc.element("UploadId", id)
        var reply = Reply.xml(doc.finish())
        if let customerKey { reply.headers += CustomerKey.responseHeaders(keyMD5: customerKey.md5) }
        if let algorithm = info.checksumAlgorithm { reply.headers.append(("x-amz-checksum-algorithm", algorithm.uppercased())) }
        return reply
    }

    /// UploadPart and UploadPartCopy: a part is ingested like an object, with its own IV.
    func uploadPart(_ request: S3Request, _ auth: Authentication, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let number = try partNumber(request)
        let id = request.query["uploadId"] ?? ""
        let info = try store.upload(bucket: bucket, id: id)
        guard info.key == key else { throw StorageError.noSuchUpload }
        let customerKey = try uploadCustomerKey(request, info)
        let writer = try store.beginPart(bucket: bucket, id: id, number: number)

        let result: Ingest.Result
        var copyResult = false
        if request.headers["x-amz-copy-source"] != nil {
            let (sourceBucket, sourceKey) = try copySource(request)
            try requireOwner(request, sourceBucket)
            let sourceCustomerKey = try self.customerKey(request, .copySource)
            let source = try openCopySource(sourceBucket, sourceKey)
            try checkCopySourceKey(sourceCustomerKey, source.metadata)
            try checkCopyConditions(request.headers, source.metadata)
            var range = 0..<source.metadata.size
            if let header = request.headers["x-amz-copy-source-range"] {
                range = try copyRange(header, size: source.metadata.size)
            }
            result = try Ingest(customerKey: customerKey).run(
                from: ObjectSource(source, range: range, key: sourceCustomerKey?.key), into: writer, body: nil)
            copyResult = true
        } else {
            var ingest = try Ingest(request, auth, customerKey: customerKey)
            if ingest.checksum == nil, let algorithm = info.checksumAlgorithm.flatMap(Checksum.Algorithm.init(rawValue:)) {
                ingest.checksum = Checksum.Expectation(algorithm: algorithm, value: nil, inTrailer: false)
            }
            let body = try bodyStream(request, auth)
            result = try ingest.run(from: body.stream, into: writer, body: body)
        }
        let modified = nowMillis()
        try writer.commit(StoredPart(number: number, size: result.size, etag: result.etag, modified: modified,
                                     iv: result.iv.map { Base64.encode($0) }, checksum: result.checksums.values.first))

        var reply: Reply
        if copyResult {
            var doc = XMLDocument(root: "CopyPartResult")
            doc.element("LastModified", HTTPDate.iso8601(millis: modified))
            doc.element("ETag", "\"\(result.etag)\"")
            reply = .xml(doc.finish())
        } else {
            reply = Reply(status: 200, headers: [("ETag", "\"\(result.etag)\"")])
            for (algorithm, value) in result.checksums { reply.headers.append(("x-amz-checksum-" + algorithm, value)) }
        }
        if let customerKey { reply.headers += CustomerKey.responseHeaders(keyMD5: customerKey.md5) }
        return reply
    }

    /// Parts of an SSE-C upload must carry the upload's key; parts of a plain one none.
    private func uploadCustomerKey(_ request: S3Request, _ info: UploadInfo) throws(S3Error) -> CustomerKey? {
        let key = try customerKey(request, .target)
        switch (key, info.sseKeyMD5) {
        case (nil, nil): return nil
        case (nil, .some):
            throw S3Error.invalidRequest("The multipart upload was initiated with SSE-C: every part must send the same customer key.")
        case (.some, nil):
            throw S3Error.invalidRequest("The multipart upload was not initiated with SSE-C: parts cannot use a customer key.")
        case (let key?, let md5?):
            guard constantTimeEquals(key.md5, md5) else {
                throw S3Error.invalidArgument("The customer key of this part differs from the key the multipart upload was initiated with.")
            }
            return key
        }
    }

    func completeMultipartUpload(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let id = request.query["uploadId"] ?? ""
        let info = try store.upload(bucket: bucket, id: id)
        guard info.key == key else { throw StorageError.noSuchUpload }
        let customerKey = try customerKey(request, .target)
        if let customerKey, customerKey.md5 != info.sseKeyMD5 {
            throw S3Error.invalidArgument("The customer key differs from the key the multipart upload was initiated with.")
        }
        guard let body = try request.http.body.readAll(limit: 4 << 20) else { throw S3Error.malformedXML }
        let document = try XMLNode.parse(body, root: "CompleteMultipartUpload")
        let requested = try document.all("Part").map { (part) throws(S3Error) -> (Int, String) in
            guard let number = part.value("PartNumber").flatMap({ Int($0.trimmingSpaces()) }), let etag = part.value("ETag") else {
                throw S3Error.malformedXML
            }
            return (number, etag.trimmingSpaces().replacingOccurrences(of: "\"", with: ""))
        }
        guard !requested.isEmpty else {
            throw S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
        }

        let minPartSize = settings.minPartSize
        let completed = try store.completeUpload(bucket: bucket, id: id) { (available) throws in
            let chosen = try S3Service.choose(requested, from: available, minPartSize: minPartSize, uploadID: id)
            // S3's multipart ETag: MD5 of the concatenated binary part MD5s, then "-N".
            let digest = Digest(.md5)
            for part in chosen { digest.update([UInt8](hex: part.etag) ?? []) }
            var metadata = ObjectMetadata(size: 0, etag: digest.finish().hex + "-\(chosen.count)", modified: self.nowMillis())
            metadata.system = info.system
            metadata.user = info.user
            metadata.tags = info.tags
            // Each part has its own IV (in the parts table); the object-level record holds the key MD5.
            metadata.sse = info.sseKeyMD5.map { SSECInfo(keyMD5: $0, iv: "") }
            return (chosen, metadata)
        }

        var doc = XMLDocument(root: "CompleteMultipartUploadResult")
        doc.element("Location", "/\(bucket)/\(key)")
        doc.element("Bucket", bucket)
        doc.element("Key", key)
        doc.element("ETag", "\"\(completed.etag)\"")
        var reply = Reply.xml(doc.finish())
        if let md5 = info.sseKeyMD5 { reply.headers += CustomerKey.responseHeaders(keyMD5: md5) }
        return reply
    }

    /// The parts a Complete request names, checked as S3 checks them.
    static func choose(_ requested: [(Int, String)], from available: [StoredPart], minPartSize: UInt64,
                       uploadID id: String) throws(S3Error) -> [StoredPart] {
        let byNumber = Dictionary(available.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
        var chosen: [StoredPart] = []
        for (index, (number, etag)) in requested.enumerated() {
            if index > 0 && number <= requested[index - 1].0 {
                throw S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.",
                              details: [("UploadId", id)])
            }
            guard let part = byNumber[number], part.etag == etag else {
                throw S3Error(400, "InvalidPart",
                              "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                              details: [("UploadId", id), ("PartNumber", String(number)), ("ETag", etag)])
            }
            chosen.append(part)
        }
        for part in chosen.dropLast() where part.size < minPartSize {
            throw S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
                          details: [("ProposedSize", String(part.size)), ("MinSizeAllowed", String(minPartSize)),
                                    ("PartNumber", String(part.number)), ("ETag", part.etag)])
        }
        return chosen
    }

    func abortMultipartUpload(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let id = request.query["uploadId"] ?? ""
        guard try store.upload(bucket: bucket, id: id).key == key else { throw StorageError.noSuchUpload }
        try store.abortUpload(bucket: bucket, id: id)
        return Reply(status: 204)
    }

    func listParts(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let id = request.query["uploadId"] ?? ""
        let info = try store.upload(bucket: bucket, id: id)
        guard info.key == key else { throw StorageError.noSuchUpload }
        let maxParts = try boundedInteger(request.query["max-parts"], name: "max-parts", default: 1000)
        let marker = try boundedInteger(request.query["part-number-marker"], name: "part-number-marker", default: 0, limit: 10_000)
        let remaining = try store.parts(bucket: bucket, id: id).filter { $0.number > marker }
        let page = remaining.prefix(maxParts)
        let owner = request.user!

        var doc = XMLDocument(root: "ListPartsResult")
        doc.element("Bucket", bucket)
        doc.element("Key", key)
        doc.element("UploadId", id)
        doc.element("PartNumberMarker", String(marker))
        if let last = page.last { doc.element("NextPartNumberMarker", String(last.number)) }
        doc.element("MaxParts", String(maxParts))
        doc.element("IsTruncated", remaining.count > page.count ? "true" : "false")
        for part in page {
            doc.open("Part")
            doc.element("PartNumber", String(part.number))
            doc.element("LastModified", HTTPDate.iso8601(millis: part.modified))
            doc.element("ETag", "\"\(part.etag)\"")
            doc.element("Size", String(part.size))
            if let checksum = part.checksum, let algorithm = info.checksumAlgorithm {
                doc.element("Checksum" + algorithm.uppercased(), checksum)
            }
            doc.close("Part")
        }
        ownerElements(&doc, owner, initiator: true)
        doc.element("StorageClass", "STANDARD")
        return .xml(doc.finish())
    }

    func listMultipartUploads(_ request: S3Request, bucket: String) throws -> Reply {
        try requireOwner(request, bucket)
        let q = request.query
        let maxUploads = try boundedInteger(q["max-uploads"], name: "max-uploads", default: 1000)
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let keyMarker = q["key-marker"] ?? ""
        let idMarker = q["upload-id-marker"] ?? ""
        let keyBytes = { (s: String) in Array(s.utf8) }

        var uploads: [UploadInfo] = []
        var prefixes: [String] = []
        var truncated = false
        for info in try store.uploads(bucket: bucket) where info.key.utf8.starts(with: prefix.utf8) {
            // After the marker: later keys, or the marker key's uploads after the id marker.
            if !keyMarker.isEmpty {
                if keyBytes(info.key).lexicographicallyPrecedes(keyBytes(keyMarker)) { continue }
                if info.key == keyMarker && (idMarker.isEmpty || info.id <= idMarker) { continue }
            }
            var common: String?
            if let delimiter, let range = info.key.dropFirst(prefix.count).range(of: delimiter) {
                common = String(info.key[..<range.upperBound])
            }
            if let common, prefixes.last == common { continue }
            if uploads.count + prefixes.count == maxUploads {
                truncated = true
                break
            }
            if let common { prefixes.append(common) } else { uploads.append(info) }
        }
        let owner = request.user!
        var doc = XMLDocument(root: "ListMultipartUploadsResult")
        doc.element("Bucket", bucket)
        doc.element("KeyMarker", keyMarker)
        doc.element("UploadIdMarker", idMarker)
        if truncated, let last = uploads.last {
            doc.element("NextKeyMarker", last.key)
            doc.element("NextUploadIdMarker", last.id)
        }
        doc.element("Prefix", prefix)
        if let delimiter { doc.element("Delimiter", delimiter) }
        doc.element("MaxUploads", String(maxUploads))
        doc.element("IsTruncated", truncated ? "true" : "false")
        for info in uploads {
            doc.open("Upload")
            doc.element("Key", info.key)
            doc.element("UploadId", info.id)
            ownerElements(&doc, owner, initiator: true)
            doc.element("StorageClass", "STANDARD")
            doc.element("Initiated", HTTPDate.iso8601(millis: info.initiated))
            doc.close("Upload")
        }
        for common in prefixes {
            doc.open("CommonPrefixes")
            doc.element("Prefix", common)
            doc.close("CommonPrefixes")
        }
        return .xml(doc.finish())
    }

    private func ownerElements(_ doc: inout XMLDocument, _ user: User, initiator: Bool) {
        for name in initiator ? ["Initiator", "Owner"] : ["Owner"] {
            doc.open(name)
            doc.element("ID", user.accessKey)
            doc.element("DisplayName", user.displayName)
            doc.close(name)
        }
    }

    private func partNumber(_ request: S3Request) throws(S3Error) -> Int {
        guard let number = request.query["partNumber"].flatMap({ Int($0) }), (1...10000).contains(number) else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive")
        }
        return number
    }

    /// A non-negative integer query parameter, capped at `limit` (S3 pages hold at most 1,000).
    func boundedInteger(_ text: String?, name: String, default value: Int, limit: Int = 1000) throws(S3Error) -> Int {
        guard let text else { return value }
        guard let n = Int(text), n >= 0 else { throw S3Error.invalidArgument("Provided \(name) not an integer or within integer range") }
        return min(n, limit)
    }

    /// `x-amz-copy-source-range: bytes=first-last`, both required and inside the source.
    private func copyRange(_ header: String, size: UInt64) throws(S3Error) -> Range<UInt64> {
        let parts = header.hasPrefix("bytes=") ? header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false) : []
        guard parts.count == 2, let first = UInt64(parts[0]), let last = UInt64(parts[1]), first <= last else {
            throw S3Error.invalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
        }
        guard last < size else {
            throw S3Error(416, "InvalidRange", "The requested range is not satisfiable", details: [("ActualObjectSize", String(size))])
        }
        return first..<last + 1
    }
}
