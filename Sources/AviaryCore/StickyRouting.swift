/// Routing an alias's requests by a key taken from each request instead of a random draw (Aviary's
/// own option, beyond AWS): the same key always lands on the same version at a given weight, and as
/// the weight grows keys only move from the primary to the additional version.
///
/// Each key hashes to a fixed point in [0, 1); a request goes to the additional version when that
/// point is below the weight. The hash is the same for every alias, so at equal weights a user is on
/// the new version of all functions or of none.
public struct StickyRouting: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Source: Sendable, Hashable {
        /// A request header (function URLs).
        case header(String)
        /// A field of the JSON event, by dotted path (Invoke).
        case eventField([String])
        /// A field of the client context JSON, by dotted path (Invoke with `X-Amz-Client-Context`).
        case clientContextField([String])
    }

    public let source: Source

    public init(source: Source) {
        self.source = source
    }

    /// Parses `header:<name>`, `event:<dotted.path>` or `client-context:<dotted.path>`.
    public init(parsing text: String) throws(DeploymentError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let usage = "a sticky key is header:<name>, event:<field.path> or client-context:<field.path>, not \(text)"
        guard parts.count == 2, !parts[1].isEmpty, parts[1].count <= 256 else { throw .invalidRequest(usage) }
        let path = parts[1].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "header":
            guard parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
                throw .invalidRequest("\(parts[1]) is not a header name")
            }
            source = .header(parts[1].lowercased())
        case "event":
            guard !path.contains(where: \.isEmpty) else { throw .invalidRequest(usage) }
            source = .eventField(path)
        case "client-context":
            guard !path.contains(where: \.isEmpty) else { throw .invalidRequest(usage) }
            source = .clientContextField(path)
        default:
            throw .invalidRequest(usage)
        }
    }

    public var description: String {
        switch source {
        case .header(let name): "header:\(name)"
        case .eventField(let path): "event:" + path.joined(separator: ".")
        case .clientContextField(let path): "client-context:" + path.joined(separator: ".")
        }
    }

    /// The key's fixed point in [0, 1): FNV-1a over its UTF-8 bytes, then a 64-bit finaliser so that
    /// similar keys spread evenly. Stable across processes and machines.
    public static func point(for key: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 30
        hash &*= 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash &*= 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return Double(hash >> 11) / Double(UInt64(1) << 53)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try StickyRouting(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension StickyRouting {
    /// The key a request carries: a header's value, or a string, number or boolean field of the parsed
    /// event or client context JSON. Nil when the request has none (it is then drawn at random).
    public func key(header: (String) -> String?, event: () -> Any?, clientContext: () -> Any?) -> String? {
        switch source {
        case .header(let name): return header(name).flatMap { $0.isEmpty ? nil : $0 }
        case .eventField(let path): return Self.field(path, in: event())
        case .clientContextField(let path): return Self.field(path, in: clientContext())
        }
    }

    static func field(_ path: [String], in object: Any?) -> String? {
        var current = object
        for name in path {
            guard let dictionary = current as? [String: Any] else { return nil }
            current = dictionary[name]
        }
        switch current {
        case let text as String: return text.isEmpty ? nil : text
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        default: return nil
        }
    }
}

extension Alias {
    /// The version one request through this alias runs: by the request's sticky key when the alias has
    /// sticky routing and the request carries the key, else by a random `draw` in [0, 1).
    public func pick(key: () -> String?, draw: () -> Double) -> VersionSelector {
        guard let routing else { return functionVersion }
        let point = sticky.flatMap { _ in key() }.map(StickyRouting.point(for:)) ?? draw()
        return routing.pick(primary: functionVersion, draw: point)
    }
}
