/// The CRCs S3 offers as checksums (CRC32, CRC32C, CRC64/NVME), all reflected, computed
/// slicing-by-8 (eight table look-ups per 8 bytes) for speed without hardware intrinsics.
public struct CRC: Sendable {
    public enum Kind: Sendable {
        case crc32, crc32c, crc64nvme

        var polynomial: UInt64 {
            switch self {
            case .crc32: 0xEDB8_8320
            case .crc32c: 0x82F6_3B78
            case .crc64nvme: 0x9A6C_9329_AC4B_C9B5
            }
        }

        var width: Int { self == .crc64nvme ? 8 : 4 }
    }

    private static let tables: [[[UInt64]]] = [Kind.crc32, .crc32c, .crc64nvme].map(makeTables)

    private let kind: Kind
    private let table: [[UInt64]]
    private var state: UInt64

    public init(_ kind: Kind) {
        self.kind = kind
        table = CRC.tables[kind == .crc32 ? 0 : kind == .crc32c ? 1 : 2]
        state = kind.width == 8 ? ~0 : 0xFFFF_FFFF
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        var i = 0
        let n = bytes.count
        table.withUnsafeBufferPointer { t in
            let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
            while i + 8 <= n {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ crc
                crc = t7[Int(word & 0xff)] ^ t6[Int((word >> 8) & 0xff)] ^ t5[Int((word >> 16) & 0xff)]
                    ^ t4[Int((word >> 24) & 0xff)] ^ t3[Int((word >> 32) & 0xff)] ^ t2[Int((word >> 40) & 0xff)]
                    ^ t1[Int((word >> 48) & 0xff)] ^ t0[Int(word >> 56)]
                i += 8
            }
            while i < n {
                crc = t0[Int((crc ^ UInt64(bytes[i])) & 0xff)] ^ (crc >> 8)
                i += 1
            }
        }
        state = crc
    }

    /// The checksum, big-endian, as S3 encodes it (before base64).
    public func finish() -> [UInt8] {
        let value = kind.width == 8 ? ~state : (~state & 0xFFFF_FFFF)
        return (0..<kind.width).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    private static func makeTables(_ kind: Kind) -> [[UInt64]] {
        var tables = [[UInt64]](repeating: [UInt64](repeating: 0, count: 256), count: 8)
        for b in 0..<256 {
            var crc = UInt64(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ kind.polynomial : crc >> 1 }
            tables[0][b] = crc
        }
        for k in 1..<8 {
            for b in 0..<256 { tables[k][b] = (tables[k - 1][b] >> 8) ^ tables[0][Int(tables[k - 1][b] & 0xff)] }
        }
        return tables
    }
}
