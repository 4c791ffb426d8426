import Foundation

extension ApplicationTemplate {
    /// Parameter overrides as written on a command line, one per argument: `Stage=prod`, or SAM's
    /// `ParameterKey=Stage,ParameterValue=prod`. An argument in SAM's form may hold several pairs
    /// separated by spaces, as `sam deploy --parameter-overrides` accepts them.
    ///
    /// The value is everything after the first `=` (or after `,ParameterValue=`), so it may contain
    /// `=`, `,` and spaces.
    public static func parseOverrides(_ arguments: [String]) throws(TemplateError) -> [String: String] {
        var overrides: [String: String] = [:]
        for argument in arguments {
            for pair in try pairs(in: argument) {
                guard overrides[pair.key] == nil else {
                    throw TemplateError("the parameter \(pair.key) is given twice")
                }
                overrides[pair.key] = pair.value
            }
        }
        return overrides
    }

    private static func pairs(in argument: String) throws(TemplateError) -> [(key: String, value: String)] {
        let samKey = "ParameterKey="
        let samValue = ",ParameterValue="
        guard argument.hasPrefix(samKey) else {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw TemplateError("a parameter override is Key=Value or ParameterKey=Key,ParameterValue=Value, not '\(argument)'")
            }
            return [(String(argument[..<equals]), String(argument[argument.index(after: equals)...]))]
        }
        var result: [(key: String, value: String)] = []
        for item in argument.components(separatedBy: " " + samKey) {
            let body = item.hasPrefix(samKey) ? item.dropFirst(samKey.count) : Substring(item)
            guard let separator = body.range(of: samValue), separator.lowerBound != body.startIndex else {
                throw TemplateError("a parameter override in SAM's form is ParameterKey=Key,ParameterValue=Value, not '\(argument)'")
            }
            result.append((String(body[..<separator.lowerBound]), String(body[separator.upperBound...])))
        }
        return result
    }
}
