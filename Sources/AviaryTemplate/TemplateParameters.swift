import Foundation

/// The `Parameters` section resolved once, before anything refers to it: each value is the override or
/// the `Default`, checked against the parameter's `Type` and constraints as CloudFormation checks them
/// when a stack is created.
enum TemplateParameters {
    enum Resolved: Sendable {
        case value(TemplateValue)
        /// A parameter Aviary cannot fill (Parameter Store); an error only if something refers to it.
        case unavailable(String)
    }

    static func resolve(_ section: TemplateNode?, overrides: [String: String]) throws(TemplateError) -> [String: Resolved] {
        let declared: [TemplateNode.Member]
        switch section {
        case nil, .null?: declared = []
        case .map(let members)?: declared = members
        default: throw TemplateError("Parameters must be a mapping of parameter names to declarations")
        }
        let names = Set(declared.map(\.key))
        if let unknown = overrides.keys.sorted().first(where: { !names.contains($0) }) {
            let known = declared.isEmpty ? "it declares none" : "it declares \(declared.map(\.key).joined(separator: ", "))"
            throw TemplateError("the parameter override \(unknown) names no parameter of the template (\(known))")
        }
        var resolved: [String: Resolved] = [:]
        for member in declared {
            resolved[member.key] = try resolve(member.key, member.value, override: overrides[member.key])
        }
        return resolved
    }

    private static func resolve(_ name: String, _ declaration: TemplateNode, override: String?) throws(TemplateError) -> Resolved {
        let location = Location("Parameters.\(name)")
        guard declaration.members != nil else { throw .at(location, "a parameter is a mapping with at least a Type") }
        guard let type = declaration["Type"]?.text else { throw .at(location, "Type is missing") }
        if type.hasPrefix("AWS::SSM::Parameter::") {
            return .unavailable(
                "\(location): Type \(type) reads AWS Systems Manager Parameter Store, which Aviary cannot; "
                    + "declare the parameter as String and pass its value")
        }
        let defaultValue: String?
        switch declaration["Default"] {
        case nil, .null?: defaultValue = nil
        case .scalar(let text)?: defaultValue = text
        default: throw .at(location, "Default must be plain text")
        }
        guard let text = override ?? defaultValue else {
            throw .at(location, "no value: the parameter has no Default, so pass one (\(name)=…)")
        }
        let hint = declaration["ConstraintDescription"]?.text.map { " (\($0))" } ?? ""
        let isList = type == "CommaDelimitedList" || type.hasPrefix("List<")
        let isNumber = type == "Number" || type == "List<Number>"
        guard isList || isNumber || type == "String" || type.hasPrefix("AWS::") else {
            throw .at(location, "Type \(type) is not a CloudFormation parameter type")
        }
        // CloudFormation trims the items of a list parameter.
        let items = isList ? text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } : [text]
        for item in items {
            try check(item, of: declaration, isNumber: isNumber, at: location, hint: hint)
        }
        return .value(isList ? .list(items.map(TemplateValue.string)) : .string(text))
    }

    private static func check(
        _ value: String, of declaration: TemplateNode, isNumber: Bool, at location: Location, hint: String
    ) throws(TemplateError) {
        let number = Double(value.trimmingCharacters(in: .whitespaces))
        if isNumber, number == nil { throw .at(location, "'\(value)' is not a number\(hint)") }
        if case .list(let allowed)? = declaration["AllowedValues"] {
            let texts = allowed.compactMap(\.text)
            guard texts.contains(value) else {
                throw .at(location, "'\(value)' is not one of the AllowedValues (\(texts.joined(separator: ", ")))\(hint)")
            }
        }
        if let pattern = declaration["AllowedPattern"]?.text {
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern) } catch { throw .at(location, "AllowedPattern '\(pattern)' is not a regular expression") }
            guard (try? regex.wholeMatch(in: value)) != nil else {
                throw .at(location, "'\(value)' does not match the AllowedPattern \(pattern)\(hint)")
            }
        }
        if let minimum = declaration["MinLength"]?.text.flatMap({ Int($0) }), value.count < minimum {
            throw .at(location, "'\(value)' is shorter than MinLength \(minimum)\(hint)")
        }
        if let maximum = declaration["MaxLength"]?.text.flatMap({ Int($0) }), value.count > maximum {
            throw .at(location, "'\(value)' is longer than MaxLength \(maximum)\(hint)")
        }
        if let number, let minimum = declaration["MinValue"]?.text.flatMap({ Double($0) }), number < minimum {
            throw .at(location, "\(value) is below MinValue \(declaration["MinValue"]?.text ?? "")\(hint)")
        }
        if let number, let maximum = declaration["MaxValue"]?.text.flatMap({ Double($0) }), number > maximum {
            throw .at(location, "\(value) is above MaxValue \(declaration["MaxValue"]?.text ?? "")\(hint)")
        }
    }
}
