using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;

namespace StructMat.Build.Tests.Infrastructure;

/// <summary>Properties the repository sets once, in Directory.Build.props (read as XML, not through MSBuild).</summary>
public static class BuildProps
{
    /// <summary>The one StructMat version: the package's version and the generator's.</summary>
    public static string StructMatVersion => Single("StructMatVersion");

    /// <summary>The repository URL the package carries; empty until someone sets it for publishing.</summary>
    public static string StructMatRepositoryUrl => Single("StructMatRepositoryUrl");

    /// <summary>The version Directory.Packages.props pins for a package.</summary>
    public static string PackageVersion(string id)
    {
        var path = Repo.PathOf("Directory.Packages.props");
        var versions = XDocument.Load(path).Descendants().Where(e => e.Name.LocalName == "PackageVersion" && (string?)e.Attribute("Include") == id)
            .Select(e => (string?)e.Attribute("Version") ?? "").ToList();
        if (versions.Count != 1)
        {
            throw new InvalidOperationException($"Expected one <PackageVersion Include=\"{id}\"> in {path}, found {versions.Count}.");
        }
        return versions[0];
    }

    private static string Single(string name)
    {
        var path = Repo.PathOf("Directory.Build.props");
        var values = XDocument.Load(path).Descendants().Where(e => e.Name.LocalName == name).Select(e => e.Value.Trim()).ToList();
        if (values.Count != 1)
        {
            throw new InvalidOperationException($"Expected one <{name}> in {path}, found {values.Count}.");
        }
        return values[0];
    }
}
