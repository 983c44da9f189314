import Storage

extension S3Service {
    typealias Operation = (name: String, run: () throws -> Reply)

    /// Picks the operation from method, bucket, key and sub-resource query.
    func dispatch(_ request: S3Request, _ auth: Authentication) throws(S3Error) -> Operation {
        guard let bucket = request.bucket else {
            guard request.method == "GET" || request.method == "HEAD" else { throw methodNotAllowed(request) }
            return ("ListBuckets", { self.listBuckets(request) })
        }
        let q = request.query
        // Presigned URLs carry their signature in the query: those names select nothing.
        let selectors = q.items.filter { !$0.name.hasPrefix("X-Amz-") && $0.name != "x-id" }
        guard let key = request.key else {
            switch request.method {
            case "PUT" where selectors.isEmpty: return ("CreateBucket", { try self.createBucket(request, bucket) })
            case "HEAD": return ("HeadBucket", { try self.headBucket(request, bucket) })
            case "DELETE" where selectors.isEmpty: return ("DeleteBucket", { try self.deleteBucket(request, bucket) })
            case "GET" where q.has("uploads"): return ("ListMultipartUploads", { try self.listMultipartUploads(request, bucket: bucket) })
            case "POST" where q.has("delete"): return ("DeleteObjects", { try self.deleteObjects(request, bucket: bucket) })
            case "GET" where q.has("location"): return ("GetBucketLocation", { try self.bucketLocation(request, bucket) })
            case "GET" where q["list-type"] == "2": return ("ListObjectsV2", { try self.listObjects(request, bucket, v2: true) })
            case "GET" where !S3Service.hasSubresource(q): return ("ListObjects", { try self.listObjects(request, bucket, v2: false) })
            default: throw S3Service.unsupported(q, request)
            }
        }
        let isUploadPart = q.has("uploadId") && q.has("partNumber") && selectors.count == 2
        switch request.method {
        case "POST" where q.has("uploads"):
            return ("CreateMultipartUpload", { try self.createMultipartUpload(request, bucket: bucket, key: key) })
        case "PUT" where isUploadPart:
            let name = request.headers["x-amz-copy-source"] == nil ? "UploadPart" : "UploadPartCopy"
            return (name, { try self.uploadPart(request, auth, bucket: bucket, key: key) })
        case "POST" where q.has("uploadId"):
            return ("CompleteMultipartUpload", { try self.completeMultipartUpload(request, bucket: bucket, key: key) })
        case "DELETE" where q.has("uploadId"):
            return ("AbortMultipartUpload", { try self.abortMultipartUpload(request, bucket: bucket, key: key) })
        case "GET" where q.has("uploadId"):
            return ("ListParts", { try self.listParts(request, bucket: bucket, key: key) })
        case "GET" where q.has("tagging"):
            return ("GetObjectTagging", { try self.getObjectTagging(request, bucket: bucket, key: key) })
        case "PUT" where q.has("tagging"):
            return ("PutObjectTagging", { try self.putObjectTagging(request, bucket: bucket, key: key) })
        case "DELETE" where q.has("tagging"):
            return ("DeleteObjectTagging", { try self.deleteObjectTagging(request, bucket: bucket, key: key) })
        case "PUT" where selectors.isEmpty && request.headers["x-amz-copy-source"] != nil:
            return ("CopyObject", { try self.copyObject(request, bucket: bucket, key: key) })
        case "PUT" where selectors.isEmpty:
            return ("PutObject", { try self.putObject(request, auth, bucket: bucket, key: key) })
        case "GET" where !S3Service.hasSubresource(q), "HEAD" where !S3Service.hasSubresource(q):
            return (request.method == "GET" ? "GetObject" : "HeadObject", { try self.getObject(request, bucket: bucket, key: key) })
        case "DELETE" where selectors.isEmpty:
            return ("DeleteObject", { try self.deleteObject(request, bucket: bucket, key: key) })
        default:
            throw S3Service.unsupported(q, request)
        }
    }

    /// Query names that select a different operation rather than modify this one.
    static func hasSubresource(_ q: QueryItems) -> Bool {
        q.items.contains { item in
            !(item.name.hasPrefix("response-") || item.name.hasPrefix("X-Amz-") || item.name == "partNumber"
              || item.name == "versionId" && item.value == "null"
              || ["prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "continuation-token",
                  "start-after", "fetch-owner", "x-id"].contains(item.name))
        }
    }

    static func unsupported(_ q: QueryItems, _ request: S3Request) -> S3Error {
        let what = q.items.map(\.name).filter { !$0.hasPrefix("X-Amz-") }.joined(separator: ",")
        return .notImplemented("\(request.method) \(what.isEmpty ? "on this resource" : "?" + what)")
    }

    private func methodNotAllowed(_ request: S3Request) -> S3Error {
        S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                details: [("Method", request.method), ("ResourceType", "SERVICE")])
    }

    /// Buckets belong to the user who created them; everyone else is denied.
    func requireOwner(_ request: S3Request, _ bucket: String) throws {
        let info = try store.bucket(bucket)
        guard info.owner == request.user?.accessKey else { throw S3Error.accessDenied }
    }

    func customerKey(_ request: S3Request, _ role: CustomerKey.Role) throws(S3Error) -> CustomerKey? {
        if request.headers["x-amz-server-side-encryption"] != nil {
            throw S3Error.notImplemented("x-amz-server-side-encryption (SSE-S3/SSE-KMS); use SSE-C")
        }
        return try CustomerKey.parse(request.headers, role: role, isTLS: request.http.isTLS,
                                     allowInsecure: settings.allowInsecureSSEC)
    }
}
