import COpenSSL

/// AES-256-CTR keystream positioned at any byte offset of an object.
///
/// Layout: the object's 16-byte random IV is the counter block of byte 0; block n uses
/// IV + n as one 128-bit big-endian integer (OpenSSL's CTR increments all 16 bytes). So no
/// keystream block repeats within an object of any size, a random start makes overlap between
/// objects negligible (≈ 2^-89 for two 5 TiB objects), and `openssl enc -aes-256-ctr -iv IV`
/// decrypts a stored file as it is.
public final class AESCTR {
    public static let ivSize = 16
    private let context: OpaquePointer

    public init(key: SecretKey, iv: [UInt8], offset: UInt64 = 0) {
        precondition(iv.count == AESCTR.ivSize)
        context = EVP_CIPHER_CTX_new()!
        let counter = AESCTR.counter(iv: iv, block: offset / 16)
        key.withBytes { k in
            _ = EVP_EncryptInit_ex(context, EVP_aes_256_ctr(), nil,
                                   k.baseAddress!.assumingMemoryBound(to: UInt8.self), counter)
        }
        // Discard the keystream bytes before the offset inside its block.
        var skip = [UInt8](repeating: 0, count: Int(offset % 16))
        if !skip.isEmpty { skip.withUnsafeMutableBytes { apply($0) } }
    }

    deinit { EVP_CIPHER_CTX_free(context) }  // frees and wipes the expanded key

    /// Encrypts or decrypts in place (CTR is symmetric).
    public func apply(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        let p = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var outLength: Int32 = 0
        var done = 0
        while done < buffer.count {  // EVP takes an Int32 length
            let n = min(buffer.count - done, 1 << 30)
            EVP_EncryptUpdate(context, p + done, &outLength, p + done, Int32(n))
            done += n
        }
    }

    /// IV + block, as a 128-bit big-endian addition.
    static func counter(iv: [UInt8], block: UInt64) -> [UInt8] {
        var out = iv
        var carry = block
        var i = 15
        while carry != 0 && i >= 0 {
            let sum = UInt64(out[i]) + (carry & 0xff)
            out[i] = UInt8(truncatingIfNeeded: sum)
            carry = (carry >> 8) + (sum >> 8)
            i -= 1
        }
        return out
    }
}
