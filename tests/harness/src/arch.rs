//! Which Lambda architecture the black-box tests exercise, and how its `bootstrap` starts on
//! this machine. One setting decides both: `LAMBDA_ARCH` (`x86_64` or `arm64`, Lambda's
//! names), by default the host's own. The host's architecture runs natively; the other one
//! runs under QEMU's user-mode emulator, pointed at that architecture's C library (Debian's
//! `qemu-user-static` and `libc6-<arch>-cross`, which `scripts/arch-tools.sh` installs).
//!
//! Asking for an architecture this machine cannot run, or whose package was not built, is an
//! error that says what to install or build: never a skip, so CI cannot pass an architecture
//! it did not test.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::function::{FunctionCommand, find_on_path};

/// The setting that names the architecture under test.
pub const ARCH_VAR: &str = "LAMBDA_ARCH";

/// A Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    /// Every architecture Lambda offers.
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Arm64];

    /// Lambda's (and Terraform's `architecture`, and the Makefile's `ARCH`) name for it.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The architecture named `name` (Lambda's names), if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|arch| arch.name() == name)
    }

    /// The architecture the harness itself was compiled for.
    pub fn host() -> Self {
        if cfg!(target_arch = "aarch64") {
            Arch::Arm64
        } else {
            Arch::X86_64
        }
    }

    /// The architecture `LAMBDA_ARCH` asks for, the host's when it is unset or empty.
    pub fn from_env() -> Result<Self> {
        match std::env::var(ARCH_VAR) {
            Ok(name) if !name.is_empty() => Self::parse(&name).ok_or_else(|| {
                Error::Setup(format!(
                    "{ARCH_VAR}={name:?} is not a Lambda architecture: use x86_64 or arm64"
                ))
            }),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(Self::host()),
            Err(std::env::VarError::NotUnicode(name)) => Err(Error::Setup(format!(
                "{ARCH_VAR}={name:?} is not a Lambda architecture: use x86_64 or arm64"
            ))),
        }
    }

    /// The ELF header's `e_machine` of a Linux binary for it.
    fn elf_machine(self) -> u16 {
        match self {
            Arch::X86_64 => 62, // EM_X86_64
            Arch::Arm64 => 183, // EM_AARCH64
        }
    }

    /// The architecture of a Linux binary, from its ELF header.
    pub fn of_binary(path: &Path) -> Result<Self> {
        use std::io::Read;
        // e_ident (16 bytes: magic, class, data, ...), e_type (2), e_machine (2). Two fixed
        // fields of a 64-bit little-endian header: no ELF crate is needed to read them.
        let mut header = [0u8; 20];
        std::fs::File::open(path)
            .and_then(|mut file| file.read_exact(&mut header))
            .map_err(|e| Error::io(format!("reading the ELF header of {}", path.display()), e))?;
        let not_elf = |why: &str| {
            Error::Setup(format!(
                "{} is not a Linux binary for Lambda ({why}): run `make build`",
                path.display()
            ))
        };
        if header[..4] != *b"\x7fELF" {
            return Err(not_elf("no ELF magic"));
        }
        if header[4] != 2 || header[5] != 1 {
            return Err(not_elf("not 64-bit little-endian"));
        }
        let machine = u16::from_le_bytes([header[18], header[19]]);
        Self::ALL
            .into_iter()
            .find(|arch| arch.elf_machine() == machine)
            .ok_or_else(|| not_elf(&format!("ELF machine {machine}")))
    }

    /// Debian's name for its architecture (of `libc6-<name>-cross`).
    fn debian_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    /// QEMU's user-mode emulator for it, as `qemu-user-static` installs it.
    fn emulator(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-x86_64-static",
            Arch::Arm64 => "qemu-aarch64-static",
        }
    }

    /// Where `libc6-<arch>-cross` puts its C library (the emulator's `-L`).
    fn sysroot(self) -> PathBuf {
        PathBuf::from(match self {
            Arch::X86_64 => "/usr/x86_64-linux-gnu",
            Arch::Arm64 => "/usr/aarch64-linux-gnu",
        })
    }

    /// How to start a binary of this architecture here: natively on a host of the same
    /// architecture, otherwise under its emulator with its C library; an error naming what
    /// to install when either is missing.
    pub fn launcher(self) -> Result<Launcher> {
        self.launcher_on(&std::env::var_os("PATH").unwrap_or_default())
    }

    /// [`Arch::launcher`] with the emulator looked up on `path` (a `PATH` value).
    fn launcher_on(self, path: &OsStr) -> Result<Launcher> {
        if self == Self::host() {
            return Ok(Launcher::Native);
        }
        let install = format!(
            "run `scripts/arch-tools.sh {}` (apt-get install qemu-user-static libc6-{}-cross)",
            self.name(),
            self.debian_name()
        );
        let emulator = find_on_path(path, self.emulator()).ok_or_else(|| {
            Error::Setup(format!(
                "{ARCH_VAR}={} on this {} machine runs the bootstrap under {}, which is not on PATH: {install}",
                self.name(),
                Self::host(),
                self.emulator()
            ))
        })?;
        let sysroot = self.sysroot();
        if !sysroot.join("lib/libc.so.6").is_file() {
            return Err(Error::Setup(format!(
                "{ARCH_VAR}={} needs the {} C library in {}, which is missing: {install}",
                self.name(),
                self.name(),
                sysroot.display()
            )));
        }
        Ok(Launcher::Emulated { emulator, sysroot })
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a function binary is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    /// Executed directly.
    Native,
    /// `<emulator> -L <sysroot> <binary>`.
    Emulated { emulator: PathBuf, sysroot: PathBuf },
}

impl Launcher {
    /// The command that starts `binary`.
    pub fn command(&self, binary: &Path) -> FunctionCommand {
        match self {
            Launcher::Native => FunctionCommand::new(binary),
            Launcher::Emulated { emulator, sysroot } => FunctionCommand::new(emulator)
                .arg("-L")
                .arg(sysroot)
                .arg(binary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Arch;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for arch in Arch::ALL {
            assert_eq!(Arch::parse(arch.name()), Some(arch));
        }
        assert_eq!(Arch::parse("aarch64"), None);
        assert_eq!(Arch::parse("amd64"), None);
    }

    #[test]
    fn the_host_runs_natively() {
        assert_eq!(Arch::host().launcher().ok(), Some(super::Launcher::Native));
    }

    #[test]
    fn the_other_architecture_without_its_emulator_is_an_error_saying_what_to_install() {
        let other = Arch::ALL
            .into_iter()
            .find(|&arch| arch != Arch::host())
            .expect("two architectures");
        let error = other
            .launcher_on(std::ffi::OsStr::new(""))
            .expect_err("no emulator on an empty PATH");
        let message = error.to_string();
        assert!(message.contains(other.emulator()), "{message}");
        assert!(message.contains("scripts/arch-tools.sh"), "{message}");
    }

    #[test]
    fn a_file_that_is_not_a_binary_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let script = dir.path().join("bootstrap");
        std::fs::write(&script, "#!/bin/sh\necho not a binary for Lambda\n").expect("written");
        let error = Arch::of_binary(&script).expect_err("a script is not an ELF binary");
        assert!(error.to_string().contains("no ELF magic"), "{error}");
    }

    #[test]
    fn the_running_test_binary_is_the_hosts_architecture() {
        let me = std::env::current_exe().expect("the test binary's path");
        assert_eq!(Arch::of_binary(&me).expect("an ELF binary"), Arch::host());
    }
}
