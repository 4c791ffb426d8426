import Yams

/// A template as written: YAML's tree with CloudFormation's intrinsic functions recognised, both the
/// short tags (`!Ref Stage`) and the one-key mappings of the long form (`{"Ref": "Stage"}`), so that the
/// evaluator sees one shape whichever way the author wrote it (and JSON templates, which are YAML).
indirect enum TemplateNode: Sendable {
    case null
    /// Every scalar is kept as its text: CloudFormation reads `30`, `"30"` and `true` by the property's type.
    case scalar(String)
    case list([TemplateNode])
    case map([Member])
    case intrinsic(Intrinsic)

    struct Member: Sendable {
        let key: String
        let value: TemplateNode
    }

    /// `Ref`, `Condition` or `Fn::…`, with its argument.
    struct Intrinsic: Sendable {
        /// The long form's name (`Fn::Sub` for `!Sub`).
        let name: String
        /// As the author wrote it, for messages.
        let spelling: String
        let argument: TemplateNode
    }

    subscript(key: String) -> TemplateNode? {
        guard case .map(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    var members: [Member]? {
        guard case .map(let members) = self else { return nil }
        return members
    }

    var text: String? {
        guard case .scalar(let text) = self else { return nil }
        return text
    }
}

extension TemplateNode {
    /// Parses YAML (or JSON) text; errors carry libyaml's line and column.
    static func parse(_ yaml: String) throws(TemplateError) -> TemplateNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw TemplateError("the template is not valid YAML: \(describe(error))")
        } catch {
            throw TemplateError("the template is not valid YAML: \(error)")
        }
        guard let root else { throw TemplateError("the template is empty") }
        var budget = maxValues
        return try convert(root, budget: &budget)
    }

    /// Far more values than any template holds; YAML aliases can otherwise expand a few lines into
    /// billions of them.
    static let maxValues = 1_000_000

    private static func convert(_ node: Node, budget: inout Int) throws(TemplateError) -> TemplateNode {
        budget -= 1
        guard budget >= 0 else {
            throw TemplateError("the template holds more than \(maxValues) values once its YAML aliases are expanded")
        }
        let tag = node.tag.description
        // `!` alone is YAML's non-specific tag (a quoted scalar), and `tag:yaml.org,…` the standard ones.
        guard tag.hasPrefix("!"), tag != "!" else { return try untagged(node, budget: &budget) }
        let name = switch tag {
        case "!Ref": "Ref"
        case "!Condition": "Condition"
        default: "Fn::" + tag.dropFirst()
        }
        let argument: TemplateNode =
            if case .scalar(let scalar) = node { .scalar(scalar.string) } else { try untagged(node, budget: &budget) }
        return .intrinsic(Intrinsic(name: name, spelling: tag, argument: argument))
    }

    private static func untagged(_ node: Node, budget: inout Int) throws(TemplateError) -> TemplateNode {
        switch node {
        case .scalar(let scalar):
            return node.tag.description == Tag.Name.null.rawValue ? .null : .scalar(scalar.string)
        case .sequence(let sequence):
            var items: [TemplateNode] = []
            for item in sequence { items.append(try convert(item, budget: &budget)) }
            return .list(items)
        case .mapping(let mapping):
            // Yams has already refused duplicate keys.
            var members: [Member] = []
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw TemplateError("\(position(key))a mapping key must be plain text")
                }
                members.append(Member(key: scalar.string, value: try convert(value, budget: &budget)))
            }
            if members.count == 1, members[0].key == "Ref" || members[0].key.hasPrefix("Fn::") {
                return .intrinsic(Intrinsic(name: members[0].key, spelling: members[0].key, argument: members[0].value))
            }
            return .map(members)
        case .alias:
            // Yams' parser substitutes anchors itself; an alias node only arises from hand-built trees.
            throw TemplateError("\(position(node))YAML aliases are not supported")
        }
    }

    private static func position(_ node: Node) -> String {
        node.mark.map { "line \($0.line), column \($0.column): " } ?? ""
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return "line \(mark.line), column \(mark.column): \(problem)\(during)"
        case .duplicatedKeysInMapping(let keys, let context):
            // Its context text is the whole document; only the position is worth showing.
            let list = keys.map { "'\($0)'" }.joined(separator: ", ")
            return "line \(context.mark.line), column \(context.mark.column): \(list) appears more than once in the same mapping"
        case .reader(let problem, let offset, _, _):
            return offset.map { "\(problem) at character \($0)" } ?? problem
        default:
            return "\(error)"
        }
    }
}
