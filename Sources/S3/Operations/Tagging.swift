import Foundation
import Storage

extension S3Service {
    /// S3's tag limits: 10 tags, keys ≤ 128 and values ≤ 256 characters.
    func validateTags(_ tags: [(String, String)]) throws(S3Error) -> [String: String] {
        guard tags.count <= 10 else { throw S3Error(400, "BadRequest", "Object tags cannot be greater than 10") }
        var out: [String: String] = [:]
        for (key, value) in tags {
            guard !key.isEmpty, key.count <= 128, value.count <= 256 else {
                throw S3Error(400, "InvalidTag", "The TagKey or TagValue you have provided is invalid")
            }
            guard out[key] == nil else { throw S3Error(400, "InvalidTag", "Cannot provide multiple Tags with the same key") }
            out[key] = value
        }
        return out
    }

    /// `x-amz-tagging: k1=v1&k2=v2` on PUT and CreateMultipartUpload.
    func taggingHeader(_ request: S3Request) throws(S3Error) -> [String: String] {
        guard let header = request.headers["x-amz-tagging"] else { return [:] }
        let items = try QueryItems(raw: header.replacingOccurrences(of: "+", with: "%20")).items
        return try validateTags(items.map { ($0.name, $0.value) })
    }

    func getObjectTagging(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        let meta = try store.openObject(bucket: bucket, key: key).metadata
        var doc = XMLDocument(root: "Tagging")
        doc.open("TagSet")
        for (k, v) in meta.tags.sorted(by: { $0.key < $1.key }) {
            doc.open("Tag")
            doc.element("Key", k)
            doc.element("Value", v)
            doc.close("Tag")
        }
        doc.close("TagSet")
        return .xml(doc.finish())
    }

    func putObjectTagging(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        guard let body = try request.http.body.readAll(limit: 64 * 1024) else { throw S3Error.malformedXML }
        let document = try XMLNode.parse(body, root: "Tagging")
        guard let set = document.child("TagSet") else { throw S3Error.malformedXML }
        let tags = try validateTags(set.all("Tag").map { ($0.value("Key") ?? "", $0.value("Value") ?? "") })
        try store.updateMetadata(bucket: bucket, key: key) { $0.tags = tags }
        return Reply(status: 200)
    }

    func deleteObjectTagging(_ request: S3Request, bucket: String, key: String) throws -> Reply {
        try requireOwner(request, bucket)
        try store.updateMetadata(bucket: bucket, key: key) { $0.tags = [:] }
        return Reply(status: 204)
    }
}
