import Crypto
import Storage

/// Where each stored byte range's keystream starts: one segment for a single PUT, one per
/// part for a multipart object (every part has its own random IV).
struct CipherLayout {
    struct Segment {
        let offset: UInt64
        let size: UInt64
        let iv: [UInt8]
    }

    let segments: [Segment]

    init?(_ metadata: ObjectMetadata) {
        guard let sse = metadata.sse else { return nil }
        if let parts = metadata.parts, parts.allSatisfy({ $0.iv != nil }) {
            var offset: UInt64 = 0
            var segments: [Segment] = []
            for part in parts {
                guard let iv = Base64.decode(part.iv!) else { return nil }
                segments.append(Segment(offset: offset, size: part.size, iv: iv))
                offset += part.size
            }
            self.segments = segments
        } else {
            guard let iv = Base64.decode(sse.iv) else { return nil }
            segments = [Segment(offset: 0, size: metadata.size, iv: iv)]
        }
    }

    /// Decrypts `buffer`, which holds the stored bytes starting at `offset`, in place.
    func decrypt(_ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, key: SecretKey) {
        var position = offset
        var done = 0
        for segment in segments where position < segment.offset + segment.size && done < buffer.count {
            guard position >= segment.offset else { continue }
            let n = Int(min(UInt64(buffer.count - done), segment.offset + segment.size - position))
            let cipher = AESCTR(key: key, iv: segment.iv, offset: position - segment.offset)
            cipher.apply(UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n]))
            done += n
            position += UInt64(n)
        }
    }
}
