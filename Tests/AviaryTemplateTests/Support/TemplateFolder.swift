@testable import AviaryTemplate
import Foundation

/// A temporary folder holding a template's code, removed when the test is done with it.
struct TemplateFolder {
    let url: URL

    /// Creates the folder with `files` (relative path → contents).
    init(files: [String: String] = ["src/app.py": "def handler(event, context):\n    return event\n"]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("aviary-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (path, contents) in files { try write(path, contents) }
    }

    func write(_ path: String, _ contents: String) throws {
        let file = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: file)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// `URL` of a file or folder inside, as the template reader builds it.
    func directory(_ path: String) -> URL { URL(fileURLWithPath: url.appendingPathComponent(path).path, isDirectory: true) }
}

/// Parses `yaml` next to a fresh `src/` folder (or `files`).
func parseTemplate(
    _ yaml: String, parameters: [String: String] = [:], files: [String: String]? = nil, applicationName: String = "shop"
) throws -> ApplicationSpec {
    let folder = try files.map { try TemplateFolder(files: $0) } ?? TemplateFolder()
    defer { folder.remove() }
    return try ApplicationTemplate.parse(yaml, directory: folder.url, parameters: parameters, applicationName: applicationName)
}

/// The message `yaml` is refused with, or nil when it parses.
func templateError(_ yaml: String, parameters: [String: String] = [:], files: [String: String]? = nil) throws -> String? {
    do {
        _ = try parseTemplate(yaml, parameters: parameters, files: files)
        return nil
    } catch let error as TemplateError {
        return error.message
    }
}

/// A template whose only function is `OrdersFunction` with `properties` (unindented YAML lines) added to
/// a valid base, and `resources` (unindented) after it.
func ordersTemplate(_ properties: String = "", base: String = "Runtime: python3.13\nHandler: app.handler\nCodeUri: src", resources: String = "", top: String = "") -> String {
    func indent(_ text: String, _ spaces: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : String(repeating: " ", count: spaces) + $0 }.joined(separator: "\n")
    }
    return """
        \(top)
        Resources:
          OrdersFunction:
            Type: AWS::Serverless::Function
            Properties:
        \(indent(base, 6))
        \(indent(properties, 6))
        \(indent(resources, 2))
        """
}
