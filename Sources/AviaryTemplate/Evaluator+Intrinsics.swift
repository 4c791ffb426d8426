import AviaryCore
import Foundation

extension Evaluator {
    /// Runs every intrinsic function inside `node`. `AWS::NoValue` (and YAML's null) drop the list item
    /// or mapping member that holds them.
    mutating func evaluate(_ node: TemplateNode, at location: Location) throws(TemplateError) -> TemplateValue {
        switch node {
        case .null:
            return .absent
        case .scalar(let text):
            return .string(text)
        case .list(let items):
            var values: [TemplateValue] = []
            for (index, item) in items.enumerated() {
                let value = try evaluate(item, at: location.index(index))
                if case .absent = value { continue }
                values.append(value)
            }
            return .list(values)
        case .map(let members):
            var values: [(key: String, value: TemplateValue)] = []
            for member in members {
                let value = try evaluate(member.value, at: location.key(member.key))
                if case .absent = value { continue }
                values.append((member.key, value))
            }
            return .map(values)
        case .intrinsic(let function):
            return try intrinsic(function, at: location)
        }
    }

    /// A property that must be text (numbers and booleans are text in a template); nil when absent.
    mutating func string(_ node: TemplateNode?, at location: Location) throws(TemplateError) -> String? {
        guard let node else { return nil }
        switch try evaluate(node, at: location) {
        case .string(let text): return text
        case .absent: return nil
        case let other: throw .at(location, "must be text, not \(other.kind) (\(other.rendered))")
        }
    }

    private mutating func intrinsic(_ function: TemplateNode.Intrinsic, at location: Location) throws(TemplateError) -> TemplateValue {
        let argument = function.argument
        let usage = { (shape: String) in TemplateError.at(location, "\(function.spelling) takes \(shape)") }
        switch function.name {
        case "Ref":
            guard let name = argument.text else { throw usage("the name of a parameter or resource") }
            return try reference(name, attribute: nil, at: location)
        case "Fn::GetAtt":
            let resource: String
            let attribute: String
            switch argument {
            case .scalar(let text):
                guard let dot = text.firstIndex(of: ".") else { throw usage("Resource.Attribute") }
                (resource, attribute) = (String(text[..<dot]), String(text[text.index(after: dot)...]))
            case .list(let parts) where parts.count == 2:
                guard let name = parts[0].text, let attributeName = try string(parts[1], at: location) else {
                    throw usage("[resource, attribute]")
                }
                (resource, attribute) = (name, attributeName)
            default:
                throw usage("Resource.Attribute or [resource, attribute]")
            }
            return try reference(resource, attribute: attribute, at: location)
        case "Fn::Sub":
            return .string(try substitute(argument, at: location))
        case "Fn::Join":
            guard case .list(let parts) = argument, parts.count == 2, let delimiter = parts[0].text else {
                throw usage("[delimiter, [values…]]")
            }
            guard case .list(let values) = try evaluate(parts[1], at: location) else { throw usage("[delimiter, [values…]]") }
            var texts: [String] = []
            for value in values {
                guard case .string(let text) = value else { throw .at(location, "Fn::Join joins text, not \(value.kind)") }
                texts.append(text)
            }
            return .string(texts.joined(separator: delimiter))
        case "Fn::Select":
            guard case .list(let parts) = argument, parts.count == 2 else { throw usage("[index, [values…]]") }
            guard let indexText = try string(parts[0], at: location), let index = Int(indexText) else {
                throw usage("[index, [values…]] with a whole-number index")
            }
            guard case .list(let values) = try evaluate(parts[1], at: location) else { throw usage("[index, [values…]]") }
            guard values.indices.contains(index) else {
                throw .at(location, "Fn::Select index \(index) is outside a list of \(values.count)")
            }
            return values[index]
        case "Fn::Split":
            guard case .list(let parts) = argument, parts.count == 2, let delimiter = parts[0].text, !delimiter.isEmpty,
                let source = try string(parts[1], at: location)
            else { throw usage("[delimiter, text]") }
            return .list(source.components(separatedBy: delimiter).map(TemplateValue.string))
        case "Fn::If":
            guard case .list(let parts) = argument, parts.count == 3, let name = parts[0].text else {
                throw usage("[condition, value if true, value if false]")
            }
            // Only the chosen branch is evaluated: the other may refer to resources its condition removes.
            return try evaluate(try condition(name, at: location) ? parts[1] : parts[2], at: location)
        case "Fn::FindInMap":
            guard case .list(let parts) = argument, parts.count == 3 else { throw usage("[map, top-level key, second-level key]") }
            var keys: [String] = []
            for part in parts {
                guard let key = try string(part, at: location) else { throw usage("[map, top-level key, second-level key]") }
                keys.append(key)
            }
            guard let map = mappings[keys[0]] else { throw .at(location, "Fn::FindInMap: no mapping named \(keys[0]) in Mappings") }
            guard let top = map[keys[1]] else { throw .at(location, "Fn::FindInMap: mapping \(keys[0]) has no key \(keys[1])") }
            guard let value = top[keys[2]] else {
                throw .at(location, "Fn::FindInMap: mapping \(keys[0]).\(keys[1]) has no key \(keys[2])")
            }
            return try evaluate(value, at: location)
        case "Fn::Base64":
            guard let text = try string(argument, at: location) else { throw usage("text") }
            return .string(Data(text.utf8).base64EncodedString())
        case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
            throw .at(location, "\(function.spelling) belongs in the Conditions section; use Fn::If here")
        case "Fn::ImportValue":
            throw .at(location, "\(function.spelling) reads another stack's exports; Aviary deploys one template on its own, so pass the value as a parameter")
        case "Fn::GetAZs", "Fn::Cidr":
            throw .at(location, "\(function.spelling) describes AWS networking, which Aviary does not model")
        case "Fn::Transform":
            throw .at(location, "\(function.spelling) runs a CloudFormation macro, which Aviary cannot")
        default:
            throw .at(location, "\(function.spelling) is not an intrinsic function Aviary can evaluate")
        }
    }

    /// `Ref` (attribute nil) and `Fn::GetAtt`: parameters, pseudo parameters and resources.
    mutating func reference(_ name: String, attribute: String?, at location: Location) throws(TemplateError) -> TemplateValue {
        if attribute == nil {
            if let pseudo = pseudoParameter(name) { return pseudo }
            switch parameters[name] {
            case .value(let value)?: return value
            case .unavailable(let message)?: throw TemplateError("\(location): !Ref \(name): \(message)")
            case nil: break
            }
        }
        let written = attribute.map { "!GetAtt \(name).\($0)" } ?? "!Ref \(name)"
        if attribute == nil, resourcesByID[name] == nil, let dot = name.lastIndex(of: "."),
            resourcesByID[String(name[..<dot])]?.type == Self.functionType
        {
            return try samReference(function: String(name[..<dot]), to: String(name[name.index(after: dot)...]), at: location)
        }
        guard let resource = resourcesByID[name] else {
            let kinds = attribute == nil ? "parameter, pseudo parameter or resource" : "resource"
            throw .at(location, "\(written): the template has no \(kinds) named \(name)")
        }
        guard try isDeployed(resource) else {
            throw .at(location, "\(written): \(name) is not created, because its condition \(resource.condition ?? "") is false")
        }
        if resource.type == Self.functionType {
            let functionName = try self.functionName(name)
            switch attribute {
            case nil: return .string(functionName.rawValue)
            case "Arn": return .string(arn(of: functionName))
            case let other?: throw .at(location, "\(written): Aviary knows a function's Arn, not its \(other)")
            }
        }
        let value = attribute.map { "\(name).\($0)" } ?? name
        warn("\(location): \(written) (\(resource.type), not deployed by Aviary) evaluates to '\(value)'")
        return .string(value)
    }

    /// SAM's `!Ref Function.Alias` and `!Ref Function.Version`, the resources `AutoPublishAlias` creates.
    private mutating func samReference(function id: String, to resource: String, at location: Location) throws(TemplateError) -> TemplateValue {
        let name = try functionName(id)
        guard let alias = try string(resourcesByID[id]?.properties["AutoPublishAlias"], at: Location(id, "AutoPublishAlias")) else {
            throw .at(location, "!Ref \(id).\(resource): \(id) has no AutoPublishAlias, so no \(resource)")
        }
        switch resource {
        case "Alias":
            return .string("\(arn(of: name)):\(alias)")
        case "Version":
            // The number exists only once the version is published; until then $LATEST holds the same code.
            warn("\(location): !Ref \(id).Version is known only once published; it evaluates to the function's unqualified ARN, whose $LATEST holds the new code")
            return .string(arn(of: name))
        default:
            throw .at(location, "!Ref \(id).\(resource): a function has .Alias and .Version, not .\(resource)")
        }
    }

    private func pseudoParameter(_ name: String) -> TemplateValue? {
        switch name {
        case "AWS::Region": .string(region)
        case "AWS::AccountId": .string(account)
        case "AWS::StackName": .string(stackName)
        case "AWS::StackId": .string("arn:\(partition):cloudformation:\(region):\(account):stack/\(stackName)/aviary")
        case "AWS::Partition": .string(partition)
        case "AWS::URLSuffix": .string(partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com")
        case "AWS::NotificationARNs": .list([])
        case "AWS::NoValue": .absent
        default: nil
        }
    }

    /// `Fn::Sub`: `${Name}` is a variable of the map, else a `Ref`; `${Resource.Attribute}` a `GetAtt`;
    /// `${!Text}` the literal `${Text}`.
    private mutating func substitute(_ argument: TemplateNode, at location: Location) throws(TemplateError) -> String {
        let template: String
        var variables: [String: String] = [:]
        switch argument {
        case .scalar(let text):
            template = text
        case .list(let parts) where parts.count == 2:
            guard let text = parts[0].text, case .map(let members) = parts[1] else {
                throw .at(location, "Fn::Sub takes text or [text, {variable: value}]")
            }
            template = text
            for member in members {
                guard let value = try string(member.value, at: location.key(member.key)) else {
                    throw .at(location.key(member.key), "a Fn::Sub variable must have a value")
                }
                variables[member.key] = value
            }
        default:
            throw .at(location, "Fn::Sub takes text or [text, {variable: value}]")
        }
        var result = ""
        var rest = Substring(template)
        while let open = rest.range(of: "${") {
            result += rest[..<open.lowerBound]
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: "}") else {
                throw .at(location, "Fn::Sub: '${' without a closing '}' in \(template)")
            }
            let name = rest[..<close].trimmingCharacters(in: .whitespaces)
            rest = rest[rest.index(after: close)...]
            if name.hasPrefix("!") {
                result += "${\(name.dropFirst())}"
                continue
            }
            if let value = variables[name] {
                result += value
                continue
            }
            let value: TemplateValue
            if !name.hasPrefix("AWS::"), let dot = name.firstIndex(of: ".") {
                value = try reference(String(name[..<dot]), attribute: String(name[name.index(after: dot)...]), at: location)
            } else {
                value = try reference(name, attribute: nil, at: location)
            }
            guard case .string(let text) = value else {
                throw .at(location, "Fn::Sub: ${\(name)} is \(value.kind), not text")
            }
            result += text
        }
        return result + rest
    }
}
