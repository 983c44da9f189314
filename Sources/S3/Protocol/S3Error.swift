/// An error as S3 reports it: HTTP status, code and message, rendered as AWS's XML.
public struct S3Error: Error, Equatable {
    public let status: Int
    public let code: String
    public let message: String
    /// Extra elements AWS adds for some codes (BucketName, Key, …).
    public var details: [(String, String)] = []

    public init(_ status: Int, _ code: String, _ message: String, details: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public static func == (a: S3Error, b: S3Error) -> Bool { a.status == b.status && a.code == b.code }

    func xml(resource: String, requestID: String) -> String {
        var doc = XMLDocument(root: "Error", namespace: nil)
        doc.element("Code", code)
        doc.element("Message", message)
        for (name, value) in details { doc.element(name, value) }
        doc.element("Resource", resource)
        doc.element("RequestId", requestID)
        return doc.finish()
    }
}

extension S3Error {
    static let accessDenied = S3Error(403, "AccessDenied", "Access Denied")
    static let signatureMismatch = S3Error(403, "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
    static let invalidAccessKey = S3Error(403, "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.")
    static let internalError = S3Error(500, "InternalError", "We encountered an internal error. Please try again.")
    static let incompleteBody = S3Error(400, "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.")
    static let missingContentLength = S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
    static let malformedXML = S3Error(400, "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema.")
    static let keyTooLong = S3Error(400, "KeyTooLongError", "Your key is too long.")
    static let invalidBucketName = S3Error(400, "InvalidBucketName", "The specified bucket is not valid.")
    static let bucketNotEmpty = S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
    static let badDigest = S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
    static let invalidDigest = S3Error(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    static let contentSHA256Mismatch = S3Error(400, "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.")

    static func noSuchBucket(_ bucket: String) -> S3Error {
        S3Error(404, "NoSuchBucket", "The specified bucket does not exist.", details: [("BucketName", bucket)])
    }
    static func noSuchKey(_ key: String) -> S3Error {
        S3Error(404, "NoSuchKey", "The specified key does not exist.", details: [("Key", key)])
    }
    static func invalidArgument(_ message: String) -> S3Error { S3Error(400, "InvalidArgument", message) }
    static func invalidRequest(_ message: String) -> S3Error { S3Error(400, "InvalidRequest", message) }
    static func notImplemented(_ what: String) -> S3Error {
        S3Error(501, "NotImplemented", "A header or query you provided implies functionality that is not implemented: \(what)")
    }
}
