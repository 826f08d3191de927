//! `tonearm render`: a screen into a PNG, headlessly. (The screens issue fills this in.)

use std::path::PathBuf;

/// Arguments of `tonearm render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The currently-playing body (an empty file means nothing playing); `-` for stdin.
    pub file: PathBuf,
    /// Where to write the PNG.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `tonearm render`.
pub fn run(_args: &RenderArgs) -> anyhow::Result<()> {
    anyhow::bail!("render is not implemented yet")
}
