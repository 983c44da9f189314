import Crypto
import FastCGI

/// An `x-amz-checksum-*` algorithm and a running computation of it.
final class Checksum {
    enum Algorithm: String, CaseIterable {
        case crc32, crc32c, crc64nvme, sha1, sha256

        var header: String { "x-amz-checksum-" + rawValue }

        var byteCount: Int {
            switch self {
            case .crc32, .crc32c: 4
            case .crc64nvme: 8
            case .sha1: 20
            case .sha256: 32
            }
        }
    }

    let algorithm: Algorithm
    private var crc: CRC?
    private let digest: Digest?

    init(_ algorithm: Algorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .crc32: crc = CRC(.crc32); digest = nil
        case .crc32c: crc = CRC(.crc32c); digest = nil
        case .crc64nvme: crc = CRC(.crc64nvme); digest = nil
        case .sha1: crc = nil; digest = Digest(.sha1)
        case .sha256: crc = nil; digest = Digest(.sha256)
        }
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        if crc != nil { crc!.update(bytes) } else { digest!.update(bytes) }
    }

    /// base64 of the result, as S3 sends it.
    func finish() -> String { Base64.encode(crc?.finish() ?? digest!.finish()) }

    /// The checksum a request asks for: a value in a header now, or one in a trailer later.
    struct Expectation {
        let algorithm: Algorithm
        /// The value from a header; nil when it comes in the trailer or is only to be computed.
        let value: String?
        let inTrailer: Bool
    }

    static func expectation(_ headers: Headers) throws(S3Error) -> Expectation? {
        let given = Algorithm.allCases.filter { headers[$0.header] != nil }
        if given.count > 1 { throw S3Error.invalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.") }
        if let algorithm = given.first {
            let value = headers[algorithm.header]!
            guard let raw = Base64.decode(value), raw.count == algorithm.byteCount else {
                throw S3Error.invalidRequest("Value for \(algorithm.header) header is invalid.")
            }
            return Expectation(algorithm: algorithm, value: value, inTrailer: false)
        }
        if let trailer = headers["x-amz-trailer"]?.lowercased() {
            guard let algorithm = Algorithm.allCases.first(where: { $0.header == trailer }) else {
                throw S3Error.invalidRequest("The value specified in the x-amz-trailer header is not supported")
            }
            return Expectation(algorithm: algorithm, value: nil, inTrailer: true)
        }
        if let sdk = headers["x-amz-sdk-checksum-algorithm"] {
            guard let algorithm = Algorithm(rawValue: sdk.lowercased()) else {
                throw S3Error.invalidArgument("Invalid x-amz-sdk-checksum-algorithm \(sdk)")
            }
            return Expectation(algorithm: algorithm, value: nil, inTrailer: false)
        }
        return nil
    }
}
