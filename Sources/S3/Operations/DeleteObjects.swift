import Crypto
import Storage

extension S3Service {
    /// DeleteObjects: up to 1,000 keys in one XML request; failures are reported per key.
    func deleteObjects(_ request: S3Request, bucket: String) throws -> Reply {
        try requireOwner(request, bucket)
        guard let body = try request.http.body.readAll(limit: 2 << 20) else { throw S3Error.malformedXML }
        if let md5 = request.headers["content-md5"], Base64.decode(md5) != Digest.hash(.md5, body) { throw S3Error.badDigest }
        let document = try XMLNode.parse(body, root: "Delete")
        let objects = document.all("Object")
        guard !objects.isEmpty, objects.count <= 1000 else { throw S3Error.malformedXML }
        let quiet = document.value("Quiet")?.trimmingSpaces().lowercased() == "true"

        var doc = XMLDocument(root: "DeleteResult")
        for object in objects {
            guard let key = object.value("Key") else { throw S3Error.malformedXML }
            do {
                try store.deleteObject(bucket: bucket, key: key)
                if !quiet {
                    doc.open("Deleted")
                    doc.element("Key", key)
                    doc.close("Deleted")
                }
            } catch {
                let s3 = (error as? StorageError).map { S3Service.map($0, request) } ?? .internalError
                doc.open("Error")
                doc.element("Key", key)
                doc.element("Code", s3.code)
                doc.element("Message", s3.message)
                doc.close("Error")
            }
        }
        return .xml(doc.finish())
    }
}
