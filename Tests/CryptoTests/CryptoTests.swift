import XCTest
@testable import Crypto

final class CryptoTests: XCTestCase {
    func testDigestsMatchKnownValues() {
        XCTAssertEqual(Digest.hash(.md5, Array("abc".utf8)).hex, "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(Digest.hash(.sha1, Array("abc".utf8)).hex, "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(Digest.sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testHMACRFC4231Case2() {
        XCTAssertEqual(HMAC.sha256(key: Array("Jefe".utf8), "what do ya want for nothing?").hex,
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testBase64RoundTripAndRejects() {
        for n in 0..<40 {
            let bytes = Random.bytes(n)
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
        }
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertNil(Base64.decode("Zm9vYmF"))      // not a multiple of 4
        XCTAssertNil(Base64.decode("Zm9v!mFy"))     // bad character
        XCTAssertNil(Base64.decode("Zg==Zm9v"))     // padding in the middle
    }

    func testSecretKeyNeedsExactly32Bytes() {
        XCTAssertNotNil(SecretKey(base64: Base64.encode(Random.bytes(32)).utf8))
        XCTAssertNil(SecretKey(base64: Base64.encode(Random.bytes(31)).utf8))
        XCTAssertNil(SecretKey(base64: Base64.encode(Random.bytes(33)).utf8))
        XCTAssertNil(SecretKey(base64: Base64.encode(Random.bytes(48)).utf8))
        XCTAssertNil(SecretKey(base64: "not base64".utf8))
        let raw = Random.bytes(32)
        let key = SecretKey(base64: Base64.encode(raw).utf8)!
        XCTAssertEqual(key.md5, Digest.hash(.md5, raw))
    }

    func testCounterAdditionCarriesAcrossAll16Bytes() {
        let iv = [UInt8](repeating: 0xff, count: 16)
        XCTAssertEqual(AESCTR.counter(iv: iv, block: 1), [UInt8](repeating: 0, count: 16))
        var low = [UInt8](repeating: 0, count: 16)
        low[7] = 0xff; low[8] = 0xff; low[15] = 0xff
        var expected = [UInt8](repeating: 0, count: 16)
        expected[7] = 0xff; expected[8] = 0xff; expected[14] = 0x01; expected[15] = 0x00
        XCTAssertEqual(AESCTR.counter(iv: low, block: 1), expected)
        // A block index beyond 2^32 (the 64 GiB wrap of 32-bit counters) moves into byte 11.
        XCTAssertEqual(AESCTR.counter(iv: [UInt8](repeating: 0, count: 16), block: 1 << 32)[11], 1)
    }

    /// Decrypting from any offset gives the same bytes as decrypting the whole stream,
    /// including offsets inside a block and IVs whose low bytes carry.
    func testKeystreamIsSeekable() {
        let key = SecretKey(base64: Base64.encode(Random.bytes(32)).utf8)!
        var iv = Random.bytes(16)
        iv[12...15] = [0xff, 0xff, 0xff, 0xfe]
        var whole = [UInt8](repeating: 0, count: 4096)
        whole.withUnsafeMutableBytes { AESCTR(key: key, iv: iv).apply($0) }
        for offset in [0, 1, 15, 16, 17, 31, 32, 100, 4000] {
            var part = [UInt8](repeating: 0, count: 4096 - offset)
            part.withUnsafeMutableBytes { AESCTR(key: key, iv: iv, offset: UInt64(offset)).apply($0) }
            XCTAssertEqual(part, Array(whole[offset...]), "offset \(offset)")
        }
    }

    /// NIST SP 800-38A F.5.5 (CTR-AES256.Encrypt), first block.
    func testAES256CTRKnownAnswer() {
        let keyHex = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
        let key = SecretKey(base64: Base64.encode(hex(keyHex)).utf8)!
        var block = hex("6bc1bee22e409f96e93d7e117393172a")
        block.withUnsafeMutableBytes { AESCTR(key: key, iv: hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")).apply($0) }
        XCTAssertEqual(block.hex, "601ec313775789a5b7a7f504bbf3d228")
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2]))
    }

    private func hex(_ text: String) -> [UInt8] { [UInt8](hex: text)! }
}

final class CRCTests: XCTestCase {
    private func crc(_ kind: CRC.Kind, _ text: String) -> String {
        var c = CRC(kind)
        Array(text.utf8).withUnsafeBytes { c.update($0) }
        return c.finish().hex
    }

    /// The catalogued check values (CRC of "123456789").
    func testCheckValues() {
        XCTAssertEqual(crc(.crc32, "123456789"), "cbf43926")
        XCTAssertEqual(crc(.crc32c, "123456789"), "e3069283")
        XCTAssertEqual(crc(.crc64nvme, "123456789"), "ae8b14860a799888")
    }

    func testSlicedAndBytewiseAgree() {
        let data = Random.bytes(1000)
        for kind in [CRC.Kind.crc32, .crc32c, .crc64nvme] {
            var whole = CRC(kind)
            data.withUnsafeBytes { whole.update($0) }
            var pieces = CRC(kind)
            for start in stride(from: 0, to: 1000, by: 7) {
                data[start..<min(start + 7, 1000)].withUnsafeBytes { pieces.update($0) }
            }
            XCTAssertEqual(whole.finish(), pieces.finish())
        }
    }
}
