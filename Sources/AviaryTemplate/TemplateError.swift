/// A template that Aviary cannot turn into an application, said in one sentence.
///
/// Messages start with where the problem is — a resource's logical id and, when it helps, the property
/// path (`OrdersFunction Environment.Variables.TABLE: …`) — because a template can hold dozens of
/// functions and the author fixes it by searching for that name.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// `<where>: <what>`.
    static func at(_ location: Location, _ problem: String) -> TemplateError {
        TemplateError("\(location): \(problem)")
    }
}

/// Where in a template a value sits: its owner (a resource, `Conditions.IsProd`, `Parameters.Stage`)
/// and the property path below it, written the way CloudFormation's own errors write it.
struct Location: Sendable, Hashable, CustomStringConvertible {
    let owner: String
    let path: String

    init(_ owner: String, _ path: String = "") {
        self.owner = owner
        self.path = path
    }

    func key(_ key: String) -> Location { Location(owner, path.isEmpty ? key : "\(path).\(key)") }
    func index(_ index: Int) -> Location { Location(owner, "\(path)[\(index)]") }

    var description: String { path.isEmpty ? owner : "\(owner) \(path)" }
}
