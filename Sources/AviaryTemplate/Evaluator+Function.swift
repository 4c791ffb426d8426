import AviaryCore
import Foundation

extension Evaluator {
    /// The `AWS::Serverless::Function` properties Aviary acts on; any other is reported as ignored.
    static let functionProperties: Set<String> = [
        "Architectures", "AutoPublishAlias", "CodeUri", "DeploymentPreference", "Description", "Environment",
        "EphemeralStorage", "EventInvokeConfig", "FunctionName", "FunctionUrlConfig", "Handler", "InlineCode", "MemorySize", "PackageType", "Role", "Runtime",
        "Timeout",
    ]

    /// What a template needs to know about the application it is read for.
    struct Target {
        let directory: URL
        let applicationName: String
        /// Every deployed function of the template by name, for hooks.
        let functions: [FunctionName: String]
    }

    mutating func functionSpec(_ resource: Resource, for target: Target) throws(TemplateError) -> FunctionSpec {
        let id = resource.logicalID
        let location = Location(id)
        let properties = resource.properties
        for key in properties.members?.map(\.key) ?? [] where !Self.functionProperties.contains(key) {
            ignoredProperties[key, default: []].append(id)
        }
        if let packageType = try string(properties["PackageType"], at: location.key("PackageType")), packageType != "Zip" {
            throw .at(location, "PackageType \(packageType) is not supported: Aviary runs zip packages (CodeUri or InlineCode), not container images")
        }
        guard let runtimeName = try string(properties["Runtime"], at: location.key("Runtime")) else {
            throw .at(location, "Runtime is missing (such as python3.13, nodejs22.x or provided.al2023)")
        }
        let runtime: Runtime
        do { runtime = try Runtime(validating: runtimeName) } catch {
            throw .at(location, "Runtime '\(runtimeName)' is not a runtime Aviary knows (python3.*, nodejs*, provided*)")
        }
        guard let handler = try string(properties["Handler"], at: location.key("Handler")) else {
            throw .at(location, "Handler is missing (such as app.lambda_handler)")
        }
        let code = try codeSource(properties, runtime: runtime, at: location, directory: target.directory)
        let settings = FunctionSettings(
            runtime: runtime.rawValue, handler: handler,
            role: try role(properties, at: location, applicationName: target.applicationName),
            description: try string(properties["Description"], at: location.key("Description")) ?? "",
            timeout: try integer(properties["Timeout"], at: location, name: "Timeout", unit: "seconds", in: FunctionSettings.timeoutRange)
                ?? FunctionSettings.defaultTimeout,
            memorySize: try integer(properties["MemorySize"], at: location, name: "MemorySize", unit: "MB", in: FunctionSettings.memoryRange)
                ?? FunctionSettings.defaultMemorySize,
            environment: try environment(properties["Environment"], at: location),
            architectures: try architectures(properties["Architectures"], at: location),
            ephemeralStorageSize: try integer(
                properties["EphemeralStorage"]?["Size"], at: location, name: "EphemeralStorage.Size", unit: "MB",
                in: FunctionSettings.ephemeralStorageRange) ?? FunctionSettings.defaultEphemeralStorage)
        do { try settings.validate() } catch { throw .at(location, error.message) }
        var alias: AliasName?
        if let aliasName = try string(properties["AutoPublishAlias"], at: location.key("AutoPublishAlias")) {
            do { alias = try AliasName(validating: aliasName) } catch {
                throw .at(location, "AutoPublishAlias '\(aliasName)' is not a valid alias name (1–128 letters, digits, '-' or '_', not only digits)")
            }
        }
        return FunctionSpec(
            logicalID: id, name: try functionName(id), code: code, settings: settings, alias: alias,
            deployment: try deploymentPreference(properties["DeploymentPreference"], alias: alias, of: id, for: target),
            url: try urlConfig(properties["FunctionUrlConfig"], at: location.key("FunctionUrlConfig")),
            eventInvoke: try eventInvokeConfig(properties["EventInvokeConfig"], at: location.key("EventInvokeConfig")))
    }

    /// `EventInvokeConfig`: MaximumRetryAttempts, MaximumEventAgeInSeconds, and DestinationConfig whose
    /// OnSuccess / OnFailure are `Type: Lambda` (Aviary delivers to functions only). Limits are checked by
    /// the server.
    private mutating func eventInvokeConfig(_ node: TemplateNode?, at location: Location) throws(TemplateError) -> EventInvokeConfig.Change? {
        let value = try evaluate(node ?? .null, at: location)
        guard case .map(let members) = value else {
            if case .absent = value { return nil }
            throw .at(location, "must be a mapping with MaximumRetryAttempts, MaximumEventAgeInSeconds or DestinationConfig")
        }
        let fields = Dictionary(members, uniquingKeysWith: { _, last in last })
        for key in fields.keys where !["MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"].contains(key) {
            throw .at(location, "has no property \(key) (MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig)")
        }
        func number(_ name: String) throws(TemplateError) -> Int? {
            switch fields[name] {
            case nil, .absent?: return nil
            case .string(let text)?:
                guard let value = Int(text) else { throw .at(location.key(name), "'\(text)' is not a whole number") }
                return value
            case let other?: throw .at(location.key(name), "must be a number, not \(other.kind)")
            }
        }
        var destinations: [String: String] = [:]
        switch fields["DestinationConfig"] {
        case nil, .absent?: break
        case .map(let targets)?:
            for (key, target) in targets {
                let targetLocation = location.key("DestinationConfig").key(key)
                guard key == "OnSuccess" || key == "OnFailure" else { throw .at(targetLocation, "is not OnSuccess or OnFailure") }
                guard case .map(let parts) = target else { throw .at(targetLocation, "must be a mapping with Type and Destination") }
                let part = Dictionary(parts, uniquingKeysWith: { _, last in last })
                guard case .string(let type)? = part["Type"] else { throw .at(targetLocation, "Type is missing (Lambda)") }
                guard type == "Lambda" else {
                    throw .at(targetLocation.key("Type"), "\(type) destinations are not supported: Aviary delivers to Lambda functions")
                }
                guard case .string(let arn)? = part["Destination"] else {
                    throw .at(targetLocation, "Destination is missing (a function ARN, such as !GetAtt OtherFunction.Arn)")
                }
                destinations[key] = arn
            }
        case let other?:
            throw .at(location.key("DestinationConfig"), "must be a mapping, not \(other.kind)")
        }
        return EventInvokeConfig.Change(
            maximumRetryAttempts: try number("MaximumRetryAttempts"),
            maximumEventAgeInSeconds: try number("MaximumEventAgeInSeconds"),
            onSuccess: destinations["OnSuccess"], onFailure: destinations["OnFailure"])
    }

    /// `FunctionUrlConfig`: AuthType (required), Cors, InvokeMode. Limits are checked by the server.
    private mutating func urlConfig(_ node: TemplateNode?, at location: Location) throws(TemplateError) -> FunctionURLSpec? {
        let value = try evaluate(node ?? .null, at: location)
        guard case .map(let members) = value else {
            if case .absent = value { return nil }
            throw .at(location, "must be a mapping with AuthType, and optionally Cors and InvokeMode")
        }
        func text(_ value: TemplateValue?, _ name: String) throws(TemplateError) -> String? {
            switch value {
            case nil, .absent?: return nil
            case .string(let text)?: return text
            case let other?: throw .at(location.key(name), "must be text, not \(other.kind)")
            }
        }
        func texts(_ value: TemplateValue?, _ name: String) throws(TemplateError) -> [String]? {
            switch value {
            case nil, .absent?: return nil
            case .list(let items)?:
                var result: [String] = []
                for item in items {
                    guard case .string(let text) = item else { throw .at(location.key(name), "must be a list of text") }
                    result.append(text)
                }
                return result
            case let other?: throw .at(location.key(name), "must be a list, not \(other.kind)")
            }
        }
        let fields = Dictionary(members, uniquingKeysWith: { _, last in last })
        for key in fields.keys where !["AuthType", "Cors", "InvokeMode"].contains(key) {
            throw .at(location, "has no property \(key) (AuthType, Cors, InvokeMode)")
        }
        guard let rawAuthType = try text(fields["AuthType"], "AuthType") else { throw .at(location, "AuthType is missing (NONE or AWS_IAM)") }
        guard let authType = FunctionURLConfig.AuthType(rawValue: rawAuthType) else {
            throw .at(location.key("AuthType"), "must be NONE or AWS_IAM, not '\(rawAuthType)'")
        }
        var cors: FunctionURLConfig.Cors?
        switch fields["Cors"] {
        case nil, .absent?: break
        case .map(let corsMembers)?:
            let c = Dictionary(corsMembers, uniquingKeysWith: { _, last in last })
            let corsLocation = location.key("Cors")
            for key in c.keys where !["AllowCredentials", "AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders", "MaxAge"].contains(key) {
                throw .at(corsLocation, "has no property \(key)")
            }
            var allowCredentials: Bool?
            switch try text(c["AllowCredentials"], "Cors.AllowCredentials")?.lowercased() {
            case nil: break
            case "true": allowCredentials = true
            case "false": allowCredentials = false
            case let other?: throw .at(corsLocation.key("AllowCredentials"), "must be true or false, not '\(other)'")
            }
            var maxAge: Int?
            if let raw = try text(c["MaxAge"], "Cors.MaxAge") {
                guard let number = Int(raw) else { throw .at(corsLocation.key("MaxAge"), "'\(raw)' is not a whole number of seconds") }
                maxAge = number
            }
            cors = FunctionURLConfig.Cors(
                allowCredentials: allowCredentials, allowHeaders: try texts(c["AllowHeaders"], "Cors.AllowHeaders"),
                allowMethods: try texts(c["AllowMethods"], "Cors.AllowMethods"),
                allowOrigins: try texts(c["AllowOrigins"], "Cors.AllowOrigins"),
                exposeHeaders: try texts(c["ExposeHeaders"], "Cors.ExposeHeaders"), maxAge: maxAge)
        case let other?:
            throw .at(location.key("Cors"), "must be a mapping, not \(other.kind)")
        }
        return FunctionURLSpec(authType: authType, cors: cors, invokeMode: try text(fields["InvokeMode"], "InvokeMode"))
    }

    private mutating func codeSource(
        _ properties: TemplateNode, runtime: Runtime, at location: Location, directory: URL
    ) throws(TemplateError) -> CodeSource {
        let codeURI = try evaluate(properties["CodeUri"] ?? .null, at: location.key("CodeUri"))
        let inline = try string(properties["InlineCode"], at: location.key("InlineCode"))
        switch (codeURI, inline) {
        case (.absent, nil):
            throw .at(location, "CodeUri or InlineCode is missing: Aviary needs the function's code, as a folder or a .zip relative to the template, or inline")
        case (.absent, let source?):
            switch runtime.family {
            case .python: return .inline(fileName: "index.py", source: source)
            case .node: return .inline(fileName: "index.js", source: source)
            case .provided:
                throw .at(location, "InlineCode needs a python3.* or nodejs* runtime; \(runtime) runs a bootstrap, so give CodeUri")
            }
        case (_, _?):
            throw .at(location, "CodeUri and InlineCode are both set; keep one")
        case (.string(let path), nil) where !path.hasPrefix("s3://"):
            let url = (path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path)).standardizedFileURL
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw .at(location, "CodeUri '\(path)' does not exist (looked for \(url.path))")
            }
            // Rebuilt from the path so that `orders` and `orders/` give equal values.
            if isDirectory.boolValue { return .directory(URL(fileURLWithPath: url.path, isDirectory: true)) }
            guard url.pathExtension.lowercased() == "zip" else {
                throw .at(location, "CodeUri '\(path)' is a file but not a .zip; give a folder or a .zip")
            }
            return .zipFile(URL(fileURLWithPath: url.path, isDirectory: false))
        case (let other, nil):
            throw .at(location, "CodeUri \(other.rendered) is in S3; Aviary needs local code: a folder or a .zip relative to the template")
        }
    }

    /// The template's role when it is an IAM role ARN; otherwise a placeholder, since Aviary enforces no
    /// IAM and the Lambda API only needs a well-formed ARN.
    private mutating func role(_ properties: TemplateNode, at location: Location, applicationName: String) throws(TemplateError) -> String {
        let placeholder = "arn:\(partition):iam::\(account):role/aviary-\(applicationName)"
        guard let role = try string(properties["Role"], at: location.key("Role")) else { return placeholder }
        guard (try? FunctionSettings(role: role).validate()) != nil else {
            warn("\(location.key("Role")): '\(role)' is not an IAM role ARN; Aviary enforces no IAM and records \(placeholder)")
            return placeholder
        }
        return role
    }

    private mutating func environment(_ node: TemplateNode?, at location: Location) throws(TemplateError) -> [String: String] {
        let environment = location.key("Environment")
        switch try evaluate(node ?? .null, at: environment) {
        case .absent:
            return [:]
        case .map(let members):
            var variables: [String: String] = [:]
            for member in members {
                guard member.key == "Variables" else {
                    ignoredProperties["Environment.\(member.key)", default: []].append(location.owner)
                    continue
                }
                guard case .map(let pairs) = member.value else {
                    throw .at(environment.key("Variables"), "must be a mapping of names to values")
                }
                for pair in pairs {
                    guard case .string(let value) = pair.value else {
                        throw .at(environment.key("Variables").key(pair.key), "must be text, not \(pair.value.kind)")
                    }
                    variables[pair.key] = value
                }
            }
            return variables
        case let other:
            throw .at(environment, "must be a mapping with Variables, not \(other.kind)")
        }
    }

    private mutating func architectures(_ node: TemplateNode?, at location: Location) throws(TemplateError) -> [String] {
        let architectures = location.key("Architectures")
        switch try evaluate(node ?? .null, at: architectures) {
        case .absent:
            return [Architecture.x86_64.rawValue]
        case .list(let items):
            var names: [String] = []
            for item in items {
                guard case .string(let name) = item else { throw .at(architectures, "must be a list of names (x86_64 or arm64)") }
                names.append(name)
            }
            return names
        case let other:
            throw .at(architectures, "must be a list such as [arm64], not \(other.kind)")
        }
    }

    /// A whole number within `range`, or nil when absent.
    mutating func integer(
        _ node: TemplateNode?, at location: Location, name: String, unit: String, in range: ClosedRange<Int>
    ) throws(TemplateError) -> Int? {
        guard let text = try string(node, at: location.key(name)) else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw .at(location, "\(name) '\(text)' is not a whole number of \(unit)")
        }
        guard range.contains(value) else {
            throw .at(location, "\(name) \(value) is outside \(range.lowerBound)…\(range.upperBound) \(unit)")
        }
        return value
    }
}
