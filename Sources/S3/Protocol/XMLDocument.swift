/// Builds the small XML documents S3 answers with, escaping every text node.
struct XMLDocument {
    private var text: String
    private let root: String

    init(root: String, namespace: String? = "http://s3.amazonaws.com/doc/2006-03-01/") {
        self.root = root
        text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(root)"
        if let namespace { text += " xmlns=\"\(namespace)\"" }
        text += ">"
    }

    mutating func element(_ name: String, _ value: String) {
        text += "<\(name)>\(XMLDocument.escape(value))</\(name)>"
    }

    mutating func open(_ name: String) { text += "<\(name)>" }
    mutating func close(_ name: String) { text += "</\(name)>" }

    mutating func finish() -> String { text + "</\(root)>" }

    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Control characters cannot appear raw; AWS writes them as references too.
                if scalar.value < 0x20 && scalar != "\t" {
                    out += "&#x\(String(scalar.value, radix: 16, uppercase: true));"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
