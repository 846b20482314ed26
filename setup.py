"""autoloss-zero: AutoLoss-Zero loss-function search on OpenMMLab 2.x."""
from setuptools import find_packages, setup

#: console script -> module of autoloss_zero.cli (tools/<module>.py wraps it)
COMMANDS = {
    'autoloss-search': 'search',
    'autoloss-train': 'train',
    'autoloss-test': 'test',
    'autoloss-tune': 'tune_coefficients',
    'autoloss-show-loss': 'show_loss',
    'autoloss-analyze': 'analyze_search',
    'autoloss-make-demo-data': 'make_demo_data',
    'autoloss-save-capture': 'save_capture',
}

setup(
    name='autoloss_zero',
    version='0.1.0',
    description='AutoLoss-Zero: searching loss functions from scratch for '
    'dense prediction, on OpenMMLab 2.x',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['autoloss_zero', 'autoloss_zero.*']),
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10,<1.0',
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmsegmentation>=1.2,<1.3',
        'mmdet>=3.3,<3.4',
        'ftfy',
        'regex',
        'numpy',
        'sympy',
        'cma',
        'matplotlib',
        'prettytable',
        'psutil',
        'rich',
        'scipy',
    ],
    entry_points={
        'console_scripts': [
            f'{command} = autoloss_zero.cli.{module}:main'
            for command, module in COMMANDS.items()
        ]
    },
    extras_require={
        'pose': ['mmpose>=1.3,<1.4', 'xtcocotools', 'json-tricks', 'munkres',
                 'chumpy'],
        'ray': ['ray>=2.9'],
        'tensorboard': ['tensorboard'],
        'dev': ['pytest', 'pytest-timeout', 'hypothesis'],
    },
)
