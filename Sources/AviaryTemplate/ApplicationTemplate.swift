import AviaryCore
public import Foundation

/// Reads an AWS SAM template (YAML or JSON) into an `ApplicationSpec`: every function Aviary deploys,
/// evaluated (parameters, conditions, mappings, `!Sub`, `!Ref`, `!GetAtt` …) and validated, plus the
/// warnings about what it leaves out. Nothing is deployed or packaged here.
///
/// ```swift
/// let spec = try ApplicationTemplate.load(
///     URL(fileURLWithPath: "template.yaml"), parameters: ["Stage": "prod"], applicationName: "orders")
/// for warning in spec.warnings { print("warning:", warning) }
/// for function in spec.functions { let zip = try Packager.package(function.code) … }
/// ```
public enum ApplicationTemplate {
    /// `AWS::AccountId` and the account of every ARN, unless the caller has a real one.
    public static let defaultAccount = "123456789012"
    /// `AWS::Region`, unless the caller gives one.
    public static let defaultRegion = "us-east-1"

    /// Reads the template at `file`; relative `CodeUri`s are resolved against its folder.
    ///
    /// - Parameters:
    ///   - overrides: parameter values (`Stage=prod`), which win over each parameter's `Default`.
    ///   - applicationName: the stack name (`AWS::StackName`), also naming the placeholder role.
    public static func load(
        _ file: URL, parameters overrides: [String: String] = [:], applicationName: String,
        region: String = defaultRegion, account: String = defaultAccount
    ) throws(TemplateError) -> ApplicationSpec {
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw TemplateError("cannot read the template \(file.path) (\((error as NSError).localizedDescription))")
        }
        return try parse(
            text, directory: file.deletingLastPathComponent(), parameters: overrides, applicationName: applicationName,
            region: region, account: account)
    }

    /// Reads template text; relative `CodeUri`s are resolved against `directory`.
    public static func parse(
        _ text: String, directory: URL, parameters overrides: [String: String] = [:], applicationName: String,
        region: String = defaultRegion, account: String = defaultAccount
    ) throws(TemplateError) -> ApplicationSpec {
        guard !applicationName.isEmpty, applicationName.count <= 64,
            applicationName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw TemplateError("the application name '\(applicationName)' must be 1–64 letters, digits, '-' or '_'")
        }
        guard account.count == 12, account.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw TemplateError("the account '\(account)' must be 12 digits")
        }
        guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw TemplateError("the region '\(region)' must be written like us-east-1")
        }
        var evaluator = try Evaluator(
            template: try TemplateNode.parse(text), overrides: overrides, region: region, account: account,
            stackName: applicationName)

        var deployed: [Evaluator.Resource] = []
        var skipped: [String] = []
        for resource in evaluator.resources where resource.type == Evaluator.functionType {
            if try evaluator.isDeployed(resource) {
                deployed.append(resource)
            } else {
                skipped.append("\(resource.logicalID) (\(resource.condition ?? ""))")
            }
        }
        deployed.sort { $0.logicalID < $1.logicalID }
        guard !deployed.isEmpty else {
            throw TemplateError(
                skipped.isEmpty
                    ? "the template has no AWS::Serverless::Function to deploy"
                    : "no function is deployed: every AWS::Serverless::Function has a false condition (\(skipped.joined(separator: ", ")))")
        }
        var functions: [FunctionName: String] = [:]
        for resource in deployed {
            let name = try evaluator.functionName(resource.logicalID)
            if let other = functions[name] {
                throw TemplateError("\(other) and \(resource.logicalID) are both named '\(name)'; function names must be unique")
            }
            functions[name] = resource.logicalID
        }
        let target = Evaluator.Target(directory: directory, applicationName: applicationName, functions: functions)
        var specs: [FunctionSpec] = []
        for resource in deployed {
            specs.append(try evaluator.functionSpec(resource, for: target))
        }

        var warnings: [String] = []
        var undeployed: [String] = []
        for resource in evaluator.resources where resource.type != Evaluator.functionType {
            guard !evaluator.usedAlarms.contains(resource.logicalID), try evaluator.isDeployed(resource) else { continue }
            undeployed.append("\(resource.logicalID) (\(resource.type))")
        }
        if !undeployed.isEmpty { warnings.append("not deployed by Aviary: " + undeployed.joined(separator: ", ")) }
        if !skipped.isEmpty { warnings.append("not deployed because their condition is false: " + skipped.joined(separator: ", ")) }
        if !evaluator.ignoredProperties.isEmpty {
            warnings.append(
                "ignored: "
                    + evaluator.ignoredProperties.sorted { $0.key < $1.key }
                    .map { "\($0.key) (\($0.value.joined(separator: ", ")))" }.joined(separator: ", "))
        }
        return ApplicationSpec(functions: specs, warnings: warnings + evaluator.warnings)
    }
}
