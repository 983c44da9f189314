import Glibc

/// The two date formats S3 speaks, without Foundation's formatters (slow, and locale-bound).
enum HTTPDate {
    /// RFC 7231: `Tue, 15 Nov 1994 08:12:31 GMT` (Last-Modified, Date).
    static func rfc1123(millis: Int64) -> String { format(millis, "%a, %d %b %Y %H:%M:%S GMT") }

    /// ISO 8601 with milliseconds: `2009-10-12T17:50:30.000Z` (XML timestamps).
    static func iso8601(millis: Int64) -> String {
        let ms = Int(millis % 1000)
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return format(millis, "%Y-%m-%dT%H:%M:%S.") + msText + "Z"
    }

    private static func format(_ millis: Int64, _ pattern: String) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Parses `20130524T000000Z` (x-amz-date) into seconds since the epoch.
    static func parseAmzDate(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z"),
              let year = number(b[0..<4]), let month = number(b[4..<6]), let day = number(b[6..<8]),
              let hour = number(b[9..<11]), let minute = number(b[11..<13]), let second = number(b[13..<15])
        else { return nil }
        return epoch(year, month, day, hour, minute, second)
    }

    /// Parses an RFC 1123 date, `Sun, 06 Nov 1994 08:49:37 GMT` (If-Modified-Since, Date).
    static func parseRFC1123(_ text: String) -> Int64? {
        let f = text.split(separator: " ")
        guard f.count == 6, f[5] == "GMT", let day = number(f[1].utf8[...]), let year = number(f[3].utf8[...]),
              let month = months.firstIndex(of: String(f[2])) else { return nil }
        let t = f[4].split(separator: ":")
        guard t.count == 3, let h = number(t[0].utf8[...]), let m = number(t[1].utf8[...]), let s = number(t[2].utf8[...])
        else { return nil }
        return epoch(year, month + 1, day, h, m, s)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func number<C: Collection>(_ digits: C) -> Int? where C.Element == UInt8 {
        guard !digits.isEmpty else { return nil }
        var n = 0
        for d in digits {
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + Int(d - UInt8(ascii: "0"))
        }
        return n
    }

    private static func epoch(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) -> Int64? {
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int64(timegm(&parts))
    }
}
