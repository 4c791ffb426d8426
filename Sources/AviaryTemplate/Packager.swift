import Crypto
public import Foundation
import ZIPFoundation

/// Turns a function's code into the zip Lambda takes, deterministically: the same files give the same
/// bytes, so the same `CodeSha256`, so an unchanged function publishes nothing.
///
/// A folder becomes a zip whose entries are its files sorted by path (bytewise), each deflated, dated
/// 1980-01-01 00:00 (the earliest date a zip can hold, and what other reproducible-build tools use),
/// with permissions 0644, or 0755 when the file is executable by its owner. Nothing that varies between
/// machines or checkouts is recorded: no modification times, owners, or directory entries (so empty
/// folders are not kept). Every file is included, hidden ones too — Aviary cannot know which files the
/// function reads. Symbolic links are stored as links when they stay inside the folder (an absolute
/// target inside it is rewritten relative) and refused when they leave it; other special files are refused.
public enum Packager {
    /// 1980-01-01T00:00:00Z.
    public static let modificationDate = Date(timeIntervalSince1970: 315_532_800)

    /// The zip for `source`: a `.zip` as it is, a folder or inline code zipped as described above.
    public static func package(_ source: CodeSource) throws(TemplateError) -> Data {
        switch source {
        case .zipFile(let url):
            do { return try Data(contentsOf: url) } catch {
                throw TemplateError("cannot read \(url.path) (\((error as NSError).localizedDescription))")
            }
        case .inline(let fileName, let source):
            return try zip([Item(path: fileName, content: .inline(Data(source.utf8)))], describing: fileName)
        case .directory(let url):
            return try zip(try entries(in: url), describing: url.path)
        }
    }

    /// Lambda's `CodeSha256`: the base64 SHA-256 of the zip.
    public static func codeSha256(_ zip: Data) -> String {
        Data(SHA256.hash(data: zip)).base64EncodedString()
    }

    struct Item {
        enum Content {
            case file(URL, executable: Bool)
            case inline(Data)
            case symlink(String)
        }

        let path: String
        let content: Content
    }

    /// Every file and link under `root`, sorted by path.
    static func entries(in root: URL) throws(TemplateError) -> [Item] {
        let rootPath = root.resolvingSymlinksInPath().path
        var entries: [Item] = []
        try collect(URL(fileURLWithPath: rootPath), components: [], rootPath: rootPath, into: &entries)
        return entries.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    private static func collect(
        _ directory: URL, components: [String], rootPath: String, into entries: inout [Item]
    ) throws(TemplateError) {
        let manager = FileManager.default
        let names: [String]
        do { names = try manager.contentsOfDirectory(atPath: directory.path) } catch {
            throw TemplateError("cannot read the folder \(directory.path) (\((error as NSError).localizedDescription))")
        }
        for name in names {
            let url = directory.appendingPathComponent(name)
            let path = (components + [name]).joined(separator: "/")
            guard !name.contains("\\") else {
                throw TemplateError("cannot package \(rootPath): '\(path)' has a backslash in its name, which unzips differently on each system")
            }
            let attributes: [FileAttributeKey: Any]
            do { attributes = try manager.attributesOfItem(atPath: url.path) } catch {
                throw TemplateError("cannot read \(url.path) (\((error as NSError).localizedDescription))")
            }
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?:
                try collect(url, components: components + [name], rootPath: rootPath, into: &entries)
            case .typeRegular?:
                let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
                entries.append(Item(path: path, content: .file(url, executable: permissions & 0o100 != 0)))
            case .typeSymbolicLink?:
                let target = try linkTarget(url, components: components, path: path, rootPath: rootPath)
                entries.append(Item(path: path, content: .symlink(target)))
            default:
                throw TemplateError("cannot package \(rootPath): '\(path)' is neither a file, a folder nor a link")
            }
        }
    }

    /// The target to store for a link inside the folder; an error when it leads outside.
    private static func linkTarget(_ url: URL, components: [String], path: String, rootPath: String) throws(TemplateError) -> String {
        let escapes = TemplateError("cannot package \(rootPath): the link '\(path)' points outside the folder")
        let written: String
        do { written = try FileManager.default.destinationOfSymbolicLink(atPath: url.path) } catch {
            throw TemplateError("cannot read the link \(url.path) (\((error as NSError).localizedDescription))")
        }
        var target = written
        if written.hasPrefix("/") {
            guard written.hasPrefix(rootPath + "/") else { throw escapes }
            target = String(repeating: "../", count: components.count) + written.dropFirst(rootPath.count + 1)
        }
        // As an unzipper resolves it: from the link's own folder, never above the root.
        var resolved = components
        for part in target.split(separator: "/") where part != "." {
            if part == ".." {
                guard resolved.popLast() != nil else { throw escapes }
            } else {
                resolved.append(String(part))
            }
        }
        // And as the file system resolves it, through any links on the way.
        if FileManager.default.fileExists(atPath: url.path) {
            let real = url.resolvingSymlinksInPath().path
            guard real == rootPath || real.hasPrefix(rootPath + "/") else { throw escapes }
        }
        return target
    }

    static func zip(_ entries: [Item], describing source: String) throws(TemplateError) -> Data {
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            for entry in entries {
                let data: Data
                let type: Entry.EntryType
                let permissions: UInt16
                switch entry.content {
                case .file(let url, let executable):
                    data = try Data(contentsOf: url)
                    (type, permissions) = (.file, executable ? 0o755 : 0o644)
                case .inline(let bytes):
                    (data, type, permissions) = (bytes, .file, 0o644)
                case .symlink(let target):
                    (data, type, permissions) = (Data(target.utf8), .symlink, 0o777)
                }
                try archive.addEntry(
                    with: entry.path, type: type, uncompressedSize: Int64(data.count), modificationDate: modificationDate,
                    permissions: permissions, compressionMethod: .deflate
                ) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            guard let bytes = archive.data else { throw TemplateError("the archive of \(source) is empty") }
            return bytes
        } catch let error as TemplateError {
            throw error
        } catch {
            throw TemplateError("cannot zip \(source) (\((error as NSError).localizedDescription))")
        }
    }
}
