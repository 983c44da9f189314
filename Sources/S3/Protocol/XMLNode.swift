import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed request body (CompleteMultipartUpload, Delete, Tagging): a small element tree,
/// namespaces dropped. Bodies are size-limited before they get here.
final class XMLNode {
    let name: String
    var children: [XMLNode] = []
    var text = ""

    init(name: String) { self.name = name }

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
    func value(_ name: String) -> String? { child(name)?.text }

    /// Parses a document; throws MalformedXML unless it is well-formed with root `root`.
    static func parse(_ bytes: [UInt8], root: String) throws(S3Error) -> XMLNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        parser.shouldProcessNamespaces = true
        guard parser.parse(), let document = builder.root, document.name == root else { throw S3Error.malformedXML }
        return document
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: XMLNode?
        private var stack: [XMLNode] = []

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            let node = XMLNode(name: name)
            if let parent = stack.last { parent.children.append(node) } else { root = node }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { stack.last?.text += string }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            stack.last?.text += String(decoding: block, as: UTF8.self)
        }
    }
}
