/// A property after its intrinsic functions ran: text, a list or a mapping, or nothing at all
/// (`AWS::NoValue`, or YAML's null), which removes the property or list item that held it.
indirect enum TemplateValue: Sendable {
    case string(String)
    case list([TemplateValue])
    case map([(key: String, value: TemplateValue)])
    case absent

    /// How the value reads in a message.
    var rendered: String {
        switch self {
        case .string(let text): "'\(text)'"
        case .list(let items): "[" + items.map(\.rendered).joined(separator: ", ") + "]"
        case .map(let members): "{" + members.map { "\($0.key): \($0.value.rendered)" }.joined(separator: ", ") + "}"
        case .absent: "nothing"
        }
    }

    var kind: String {
        switch self {
        case .string: "text"
        case .list: "a list"
        case .map: "a mapping"
        case .absent: "nothing"
        }
    }
}
