import Crypto
import FastCGI
import Storage

/// An SSE-C key taken from request headers, after every rule AWS applies to them.
struct CustomerKey {
    let key: SecretKey
    /// base64 MD5 of the key, as sent and as stored.
    let md5: String

    /// The plain headers, or the `x-amz-copy-source-…` trio for a copy's source.
    enum Role {
        case target, copySource

        var prefix: String {
            switch self {
            case .target: "x-amz-server-side-encryption-customer-"
            case .copySource: "x-amz-copy-source-server-side-encryption-customer-"
            }
        }
    }

    static let insecureTransport = S3Error.invalidRequest(
        "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")

    /// nil when none of the role's headers is present.
    static func parse(_ headers: Headers, role: Role, isTLS: Bool, allowInsecure: Bool) throws(S3Error) -> CustomerKey? {
        let algorithm = headers[role.prefix + "algorithm"]
        let keyText = headers[role.prefix + "key"]
        let md5Text = headers[role.prefix + "key-md5"]
        if algorithm == nil && keyText == nil && md5Text == nil { return nil }
        if !isTLS && !allowInsecure { throw insecureTransport }
        guard algorithm == "AES256" else {
            throw S3Error.invalidArgument(algorithm == nil
                ? "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."
                : "The encryption algorithm specified is not valid; only AES256 is supported.")
        }
        guard let keyText else {
            throw S3Error.invalidArgument(
                "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
        }
        guard let md5Text else {
            throw S3Error.invalidArgument(
                "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
        }
        guard let key = SecretKey(base64: keyText.utf8) else {
            throw S3Error.invalidArgument("The secret key was invalid for the specified algorithm: it must be base64 of exactly 32 bytes.")
        }
        let computed = Base64.encode(key.md5)
        guard constantTimeEquals(computed, md5Text) else {
            throw S3Error.invalidArgument("The calculated MD5 hash of the key did not match the hash that was provided.")
        }
        return CustomerKey(key: key, md5: computed)
    }

    /// Checks this key against an object's stored SSE-C record, before any byte is sent.
    /// No key for an encrypted object, or a key for a plain one, is a 400; a wrong key a 403.
    static func check(_ key: CustomerKey?, against stored: SSECInfo?) throws(S3Error) {
        switch (key, stored) {
        case (nil, nil):
            return
        case (nil, .some):
            throw S3Error.invalidRequest(
                "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
        case (.some, nil):
            throw S3Error.invalidRequest("The encryption parameters are not applicable to this object.")
        case (let key?, let stored?):
            guard constantTimeEquals(key.md5, stored.keyMD5) else {
                throw S3Error(403, "AccessDenied", "Access Denied: the SSE-C key does not match the object's key.")
            }
        }
    }

    /// Response headers that echo SSE-C use.
    static func responseHeaders(keyMD5: String) -> [(String, String)] {
        [("x-amz-server-side-encryption-customer-algorithm", "AES256"),
         ("x-amz-server-side-encryption-customer-key-MD5", keyMD5)]
    }
}

