public import AviaryCore
public import Foundation

/// An application as a SAM template describes it, evaluated and validated: what `aviary deploy` creates,
/// publishes and releases. Nothing in it refers back to the template.
public struct ApplicationSpec: Sendable, Hashable {
    /// Sorted by logical id.
    public var functions: [FunctionSpec]
    /// What the template says that Aviary does not act on, one sentence each: resource types it does
    /// not deploy, properties it ignores, references to such resources. Shown to the user, never fatal.
    public var warnings: [String]

    public init(functions: [FunctionSpec], warnings: [String]) {
        self.functions = functions
        self.warnings = warnings
    }

    /// The function with this logical id, if the template deploys it.
    public func function(_ logicalID: String) -> FunctionSpec? {
        functions.first { $0.logicalID == logicalID }
    }
}

/// One `AWS::Serverless::Function`.
public struct FunctionSpec: Sendable, Hashable {
    public var logicalID: String
    /// `FunctionName`, or the logical id when the template gives none.
    public var name: FunctionName
    public var code: CodeSource
    /// Every field is set (absent properties take Lambda's defaults), so applying them to an existing
    /// function also resets whatever the template no longer says.
    public var settings: FunctionSettings
    /// `AutoPublishAlias`: the alias each new version is published behind.
    public var alias: AliasName?
    public var deployment: DeploymentPreferenceSpec?
    /// `FunctionUrlConfig`: the URL of the alias (`AutoPublishAlias`), else of the function.
    public var url: FunctionURLSpec?
    /// `EventInvokeConfig`: asynchronous invocation settings of the alias, else of `$LATEST`.
    public var eventInvoke: EventInvokeConfig.Change?

    public init(
        logicalID: String, name: FunctionName, code: CodeSource, settings: FunctionSettings, alias: AliasName?,
        deployment: DeploymentPreferenceSpec?, url: FunctionURLSpec? = nil, eventInvoke: EventInvokeConfig.Change? = nil
    ) {
        self.logicalID = logicalID
        self.name = name
        self.code = code
        self.settings = settings
        self.alias = alias
        self.deployment = deployment
        self.url = url
        self.eventInvoke = eventInvoke
    }
}

/// A function's `FunctionUrlConfig`, as `CreateFunctionUrlConfig` takes it.
public struct FunctionURLSpec: Sendable, Hashable {
    public var authType: FunctionURLConfig.AuthType
    public var cors: FunctionURLConfig.Cors?
    public var invokeMode: String?

    public init(authType: FunctionURLConfig.AuthType, cors: FunctionURLConfig.Cors?, invokeMode: String?) {
        self.authType = authType
        self.cors = cors
        self.invokeMode = invokeMode
    }
}

/// Where a function's code comes from; `Packager.package` turns each into zip bytes.
public enum CodeSource: Sendable, Hashable {
    /// A folder, zipped deterministically.
    case directory(URL)
    /// A ready-made archive, used byte for byte.
    case zipFile(URL)
    /// `InlineCode`, as the one file Lambda would create for it (`index.py`, `index.js`).
    case inline(fileName: String, source: String)
}

/// `DeploymentPreference`: how a new version of the function reaches its alias.
public struct DeploymentPreferenceSpec: Sendable, Hashable {
    public var strategy: Strategy
    /// From `Alarms`; empty means Aviary's standard health policy.
    public var rules: [HealthRule]
    public var preTrafficHook: FunctionName?
    public var postTrafficHook: FunctionName?
    /// `Enabled: false` moves the alias at once, as SAM does.
    public var enabled: Bool

    public init(
        strategy: Strategy, rules: [HealthRule] = [], preTrafficHook: FunctionName? = nil,
        postTrafficHook: FunctionName? = nil, enabled: Bool = true
    ) {
        self.strategy = strategy
        self.rules = rules
        self.preTrafficHook = preTrafficHook
        self.postTrafficHook = postTrafficHook
        self.enabled = enabled
    }
}
