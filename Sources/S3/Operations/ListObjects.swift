import Crypto
import Storage

extension S3Service {
    /// ListObjects (v1) and ListObjectsV2: the same walk, two XML shapes.
    func listObjects(_ request: S3Request, _ bucket: String, v2: Bool) throws -> Reply {
        try requireOwner(request, bucket)
        let q = request.query
        let maxKeys = try boundedInteger(q["max-keys"], name: "max-keys", default: 1000)
        let urlEncoded: Bool
        switch q["encoding-type"] {
        case nil: urlEncoded = false
        case "url": urlEncoded = true
        default: throw S3Error.invalidArgument("Invalid Encoding Method specified in Request")
        }
        let encode = { (text: String) in urlEncoded ? URIEncoding.encode(text, keepSlash: true) : text }
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }

        var after: String?
        if v2 {
            if let token = q["continuation-token"] {
                guard let raw = Base64.decode(token), let key = String(validating: raw, as: UTF8.self) else {
                    throw S3Error.invalidArgument("The continuation token provided is incorrect")
                }
                after = key
            } else {
                after = q["start-after"]
            }
        } else {
            after = q["marker"]
        }
        let result = try store.list(bucket: bucket, ListRequest(prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys))

        let owner = request.user!
        var doc = XMLDocument(root: "ListBucketResult")
        doc.element("Name", bucket)
        doc.element("Prefix", encode(prefix))
        if v2 {
            if let token = q["continuation-token"] { doc.element("ContinuationToken", token) }
            if let start = q["start-after"] { doc.element("StartAfter", encode(start)) }
            if result.isTruncated, let last = result.last { doc.element("NextContinuationToken", Base64.encode(Array(last.utf8))) }
            doc.element("KeyCount", String(result.objects.count + result.commonPrefixes.count))
        } else {
            doc.element("Marker", encode(q["marker"] ?? ""))
            // AWS sends NextMarker only with a delimiter; without one the last key is the marker.
            if result.isTruncated, delimiter != nil, let last = result.last { doc.element("NextMarker", encode(last)) }
        }
        doc.element("MaxKeys", String(maxKeys))
        if let delimiter { doc.element("Delimiter", encode(delimiter)) }
        if urlEncoded { doc.element("EncodingType", "url") }
        doc.element("IsTruncated", result.isTruncated ? "true" : "false")
        let withOwner = !v2 || q["fetch-owner"] == "true"
        for object in result.objects {
            doc.open("Contents")
            doc.element("Key", encode(object.key))
            doc.element("LastModified", HTTPDate.iso8601(millis: object.modified))
            doc.element("ETag", "\"\(object.etag)\"")
            doc.element("Size", String(object.size))
            if withOwner {
                doc.open("Owner")
                doc.element("ID", owner.accessKey)
                doc.element("DisplayName", owner.displayName)
                doc.close("Owner")
            }
            doc.element("StorageClass", "STANDARD")
            doc.close("Contents")
        }
        for common in result.commonPrefixes {
            doc.open("CommonPrefixes")
            doc.element("Prefix", encode(common))
            doc.close("CommonPrefixes")
        }
        return .xml(doc.finish())
    }
}
