//! An OCI reference as `spin registry push` takes one: `registry[:port]/repository[:tag]`.

use anyhow::{Result, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host` or `host:port`, the registry's address.
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Self> {
        let Some((registry, rest)) = text.split_once('/') else {
            bail!("`{text}` names no registry: write registry/repository[:tag], such as 127.0.0.1:5000/eventos:dev");
        };
        if !(registry.contains('.') || registry.contains(':') || registry == "localhost") {
            bail!("`{registry}` is not a registry address (a host name with a dot, a port, or localhost)");
        }
        if rest.contains('@') {
            bail!("`{text}`: a push names a tag; the registry answers with the digest");
        }
        let (repository, tag) = match rest.rsplit_once(':') {
            Some((repository, tag)) => (repository, tag),
            None => (rest, "latest"),
        };
        let repository_ok = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            });
        if !repository_ok {
            bail!("`{repository}` is not a repository name (lowercase letters, digits, `.`, `_`, `-`, `/`)");
        }
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && !tag.starts_with(['.', '-']);
        if !tag_ok {
            bail!("`{tag}` is not a tag (letters, digits, `.`, `_`, `-`; at most 128)");
        }
        Ok(Self { registry: registry.into(), repository: repository.into(), tag: tag.into() })
    }

    /// The same artifact, named by its digest (what a deployment should pin).
    pub fn pinned(&self, digest: &str) -> String {
        format!("{}/{}@{digest}", self.registry, self.repository)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_repository_and_tag_are_read() {
        let reference = Reference::parse("127.0.0.1:5000/team/eventos:dev").expect("valid");
        assert_eq!(reference.registry, "127.0.0.1:5000");
        assert_eq!(reference.repository, "team/eventos");
        assert_eq!(reference.tag, "dev");
        assert_eq!(Reference::parse("ghcr.io/acme/eventos").expect("valid").tag, "latest");
        assert_eq!(reference.pinned("sha256:ab"), "127.0.0.1:5000/team/eventos@sha256:ab");
    }

    #[test]
    fn what_is_not_a_pushable_reference_is_refused() {
        for text in [
            "eventos:dev",
            "docker/eventos",
            "r.io/Eventos",
            "r.io/eventos:",
            "r.io//x",
            "r.io/e@sha256:ab",
            "r.io/e:-x",
        ] {
            assert!(Reference::parse(text).is_err(), "{text} was accepted");
        }
    }
}
