import FastCGI
import Storage

extension S3Service {
    func listBuckets(_ request: S3Request) -> Reply {
        let user = request.user!
        var doc = XMLDocument(root: "ListAllMyBucketsResult")
        doc.open("Owner")
        doc.element("ID", user.accessKey)
        doc.element("DisplayName", user.displayName)
        doc.close("Owner")
        doc.open("Buckets")
        for bucket in (try? store.listBuckets()) ?? [] where bucket.owner == user.accessKey {
            doc.open("Bucket")
            doc.element("Name", bucket.name)
            doc.element("CreationDate", HTTPDate.iso8601(millis: bucket.created))
            doc.close("Bucket")
        }
        doc.close("Buckets")
        return .xml(doc.finish())
    }

    func createBucket(_ request: S3Request, _ bucket: String) throws -> Reply {
        guard BucketName.isValid(bucket) else { throw S3Error.invalidBucketName }
        // The optional CreateBucketConfiguration names a region; one region is all we have.
        if let body = try request.http.body.readAll(limit: 64 * 1024), !body.isEmpty {
            let text = String(decoding: body, as: UTF8.self)
            guard text.contains("CreateBucketConfiguration") else { throw S3Error.malformedXML }
        }
        do {
            try store.createBucket(bucket, owner: request.user!.accessKey)
        } catch StorageError.bucketExists(let owner) where owner == request.user!.accessKey {
            throw S3Error(409, "BucketAlreadyOwnedByYou",
                          "Your previous request to create the named bucket succeeded and you already own it.",
                          details: [("BucketName", bucket)])
        }
        return Reply(status: 200, headers: [("Location", "/" + bucket)])
    }

    func headBucket(_ request: S3Request, _ bucket: String) throws -> Reply {
        try requireOwner(request, bucket)
        return Reply(status: 200, headers: [("x-amz-bucket-region", settings.region)])
    }

    func deleteBucket(_ request: S3Request, _ bucket: String) throws -> Reply {
        try requireOwner(request, bucket)
        try store.deleteBucket(bucket)
        return Reply(status: 204)
    }

    func bucketLocation(_ request: S3Request, _ bucket: String) throws -> Reply {
        try requireOwner(request, bucket)
        // us-east-1 is reported as an empty constraint, as AWS does.
        let region = settings.region == "us-east-1" ? "" : settings.region
        return .xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + XMLDocument.escape(region) + "</LocationConstraint>")
    }
}
